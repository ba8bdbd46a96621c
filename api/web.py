"""What the page's routes share: templates, their filters, the upload form and response headers."""

from __future__ import annotations

import inspect
import math
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin, get_type_hints
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.params import File, Form
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError, create_model
from starlette.responses import Response

from api.problems import Problem
from api.routes.jobs import create_job
from playparse import render
from playparse.config import Settings
from playparse.jobs import event_summary

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
DEFAULT_TEMPORAL_UI = "http://127.0.0.1:8233"

# The page loads nothing from elsewhere and runs no inline script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

FIELD_NAMES = {
    "provider": "Provider",
    "model": "Model",
    "chunk_size": "Chunk size",
    "priority": "Priority",
    "concurrency": "Chunks at once",
    "batch_key": "Batch key",
    "budget_tokens": "Token budget",
    "budget_usd": "Cost budget",
    "fresh": "Parse from scratch",
}


def when(value: datetime | None) -> str:
    """A timestamp for people: "2025-05-01 14:03:22 UTC"."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def duration(seconds: float | None) -> str:
    """Time left in words: "about 40 s", "about 3 min"."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"about {max(1, math.ceil(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60} min"


def too_large_sentence(max_bytes: int) -> str:
    """Why an upload was refused, for the person at the form."""
    return f"The file is larger than the limit of {nbytes(max_bytes)}."


def nbytes(size: int) -> str:
    """A size for people: "20 MB"."""
    for unit, step in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= step:
            return f"{size / step:.3g} {unit}"
    return f"{size} bytes"


def temporal_ui_url(settings: Settings, job_id: str) -> str:
    """The job's workflow (the job id is the workflow id) in the Temporal Web UI."""
    ui = (settings.temporal_ui_url or DEFAULT_TEMPORAL_UI).rstrip("/")
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{ui}/namespaces/{namespace}/workflows/{quote(job_id, safe='')}"


@cache
def templates() -> Jinja2Templates:
    built = Jinja2Templates(directory=TEMPLATES_DIR)
    built.env.filters.update(when=when, duration=duration, nbytes=nbytes)
    built.env.globals.update(
        speaker_names=render.speaker_names,
        event_summary=event_summary,
    )
    return built


def page(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """A rendered template with the page's security headers."""
    return templates().TemplateResponse(
        request, name, context, status_code=status_code, headers=SECURITY_HEADERS
    )


# --- words and checks every page needs ------------------------------------------------------


def sentence(text: str) -> str:
    """Text as a sentence: a capital first and a full stop last."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _from_another_site(request: Request) -> bool:
    """Whether a browser sent this from another site's page (browsers name its origin)."""
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != request.headers.get("host")


def check_same_origin(request: Request) -> None:
    """Refuse a form posted from another site."""
    if _from_another_site(request):
        raise Problem(403, "cross-site-form", "forms may only be sent from this site's own pages")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def same_origin_writes(request: Request) -> None:
    """Refuse a change sent by a browser from another site's page.

    A page elsewhere can make a visitor's browser post a form to this API (a job that spends
    on a paid provider, say); the browser names that page's origin. Clients that are not
    browsers (the CLI, scripts) send no Origin and are not affected.
    """
    if request.method not in SAFE_METHODS and _from_another_site(request):
        raise Problem(
            403, "cross-site-request", "changes may only be sent from this site's own pages"
        )


def not_found(request: Request, message: str) -> Response:
    context = {"heading": "Not found", "message": sentence(message)}
    return page(request, "error.html", context, status_code=404)


# --- the upload form ---------------------------------------------------------------------------


@cache
def upload_form_model() -> type[BaseModel]:
    """The job options of `POST /api/jobs` as a model, with the API's own bounds and defaults.

    Built from the route's signature, so the page's form accepts exactly what the API does.
    """
    hints = get_type_hints(create_job, include_extras=True)
    fields: dict[str, Any] = {}
    for name, parameter in inspect.signature(create_job).parameters.items():
        hint = hints[name]
        markers = get_args(hint)[1:] if get_origin(hint) is Annotated else ()
        if any(isinstance(m, Form) and not isinstance(m, File) for m in markers):
            fields[name] = (hint, parameter.default)
    model: type[BaseModel] = create_model("UploadForm", **fields)
    return model


def job_options(form: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The options of a submitted form, or what is wrong with them in plain words."""
    known = upload_form_model().model_fields
    values = {k: v.strip() for k, v in form.items() if k in known and v.strip()}
    try:
        options = upload_form_model().model_validate(values)
    except ValidationError as error:
        return {}, [_plain(e) for e in error.errors()]
    return options.model_dump(), []


def _plain(error: Any) -> str:
    field = FIELD_NAMES.get(str(error["loc"][0]), str(error["loc"][0]))
    context = {k: f"{v:g}" if isinstance(v, float) else v for k, v in error.get("ctx", {}).items()}
    kind = error["type"]
    if kind == "greater_than_equal":
        return f"{field} must be at least {context['ge']}."
    if kind == "less_than_equal":
        return f"{field} must be at most {context['le']}."
    if kind == "greater_than":
        return f"{field} must be more than {context['gt']}."
    if kind in ("int_parsing", "int_from_float"):
        return f"{field} must be a whole number."
    if kind == "float_parsing":
        return f"{field} must be a number."
    if kind == "finite_number":
        return f"{field} must be a finite number."
    if kind == "string_pattern_mismatch":
        return f"{field} may not contain control characters."
    if kind == "string_too_long":
        return f"{field} may be at most {context['max_length']} characters long."
    return f"{field}: {error['msg']}."
