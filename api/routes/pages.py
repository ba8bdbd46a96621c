"""The web page: submit a play, watch and steer jobs, read the result. HTML, no build step.

Every form works without JavaScript (a POST answered by a 303 redirect, or the page again with
the problem in plain words); app.js only adds live updates, drag and drop and in-place actions.
The routes reuse the API's own code: submission is `POST /api/jobs`'s `create_job`, the
controls are those of `api.routes.control`, the play is what `GET .../result` answers.

`router` also carries the reading page (api.routes.play_page) and the endpoints the page relies
on: the live jobs list (`GET /api/jobs/stream`, registered before `/api/jobs/{job_id}`) and the
Markdown and script downloads (`GET /api/jobs/{id}/result.md|.txt`).
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any, NamedTuple, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile as StarletteUploadFile

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.problems import Problem
from api.routes import control, exports, jobs_stream, play_page
from api.routes.jobs import create_job, load_job
from api.schemas import JobEventPublic, JobPublic
from api.web import (
    check_same_origin,
    job_options,
    not_found,
    page,
    sentence,
    temporal_ui_url,
    too_large_sentence,
    upload_form_model,
)
from playparse.config import Settings
from playparse.db import jobs as jobs_repo
from playparse.db.job_search import search_jobs
from playparse.ids import MAX_BIGINT
from playparse.jobs import JobAction, JobStatus
from playparse.llm.base import configured_providers

pages = APIRouter(include_in_schema=False)

MAX_EVENTS_SHOWN = 1000
PRIORITIES = [(5, "5: most urgent"), (4, "4"), (3, "3: normal"), (2, "2"), (1, "1: least urgent")]


class Button(NamedTuple):
    """A button of the job page: the action, its label, what it does, what the page says
    once it has been asked for."""

    action: str
    label: str
    hint: str
    done: str


BUTTONS = [
    Button(
        "pause",
        "Pause",
        "Running chunks finish; no new chunk starts.",
        "Pause requested: the chunks already running finish first.",
    ),
    Button("resume", "Resume", "Carry on with the next chunk.", "Resumed."),
    Button(
        "cancel", "Cancel", "Stop now; the chunks parsed so far stay readable.", "Cancel requested."
    ),
    Button(
        "retry",
        "Retry",
        "Run the job again; chunks already parsed are reused.",
        "The job runs again.",
    ),
]
DONE = {button.action: button.done for button in BUTTONS}


def plain_problem(problem: Problem) -> str:
    """An API problem as a sentence for the person at the form."""
    if problem.slug == "idempotency-key-reused":
        return "This form was already used for another file. Please choose the file again."
    if problem.slug == "too-large":
        return too_large_sentence(problem.extra["max_bytes"])
    return sentence(problem.detail)


# --- the jobs list and the upload form ---------------------------------------------------------


def _form_defaults(settings: Settings) -> dict[str, Any]:
    defaults = {name: f.default for name, f in upload_form_model().model_fields.items()}
    return defaults | {"provider": settings.default_provider}


async def _index(
    request: Request,
    session: SessionDep,
    settings: Settings,
    tenant: str,
    *,
    states: list[str],
    q: str,
    cursor: str | None = None,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        jobs, next_cursor = await search_jobs(
            session, tenant_id=tenant, statuses=states, filename_contains=q, cursor=cursor
        )
    except ValueError:  # a mangled "older jobs" link: show the newest instead
        jobs, next_cursor = await search_jobs(
            session, tenant_id=tenant, statuses=states, filename_contains=q
        )
    query = [("status", s) for s in states] + ([("q", q)] if q else [])
    context = {
        "nav": "jobs",
        "jobs": [JobPublic.of(job) for job in jobs],
        "older_url": "/?" + urlencode([*query, ("cursor", next_cursor)]) if next_cursor else None,
        "states": [s.value for s in JobStatus],
        "selected_states": states,
        "q": q,
        "cursor": cursor,
        "providers": configured_providers(settings),
        "priorities": PRIORITIES,
        "default_chunk_size": settings.default_chunk_size,
        "max_concurrency": settings.max_concurrency,
        "max_upload_bytes": settings.max_upload_bytes,
        "values": values or _form_defaults(settings),
        "errors": errors or [],
        "form_key": secrets.token_urlsafe(16),
    }
    return page(request, "index.html", context, status_code=status_code)


@pages.get("/")
async def index(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    tenant: TenantDep,
    status: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI copies the default)
    q: str = "",
    cursor: str | None = None,
) -> Response:
    """The upload form and the jobs table, filtered by state and file name."""
    states = [s for s in status if s in JobStatus.__members__.values()]
    return await _index(request, session, settings, tenant, states=states, q=q[:255], cursor=cursor)


@pages.get("/reference")
async def reference(request: Request) -> Response:
    """The API's operations, read from its OpenAPI document and served with no external files.

    FastAPI's own /docs page loads Swagger UI from a CDN, which an offline machine cannot
    reach; this page needs nothing but the server.
    """
    document = request.app.openapi()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "description": operation.get("description", ""),
            "parameters": operation.get("parameters", []),
            "body": sorted((operation.get("requestBody") or {}).get("content", {})),
            "responses": [
                {
                    "status": status,
                    "description": answer.get("description", ""),
                    "media": sorted(answer.get("content", {})),
                }
                for status, answer in sorted(operation.get("responses", {}).items())
            ],
        }
        for path, methods in document.get("paths", {}).items()
        for method, operation in methods.items()
    ]
    context = {"nav": "api", "title": document["info"]["title"], "operations": operations}
    return page(request, "reference.html", context)


@pages.get("/jobs")
async def jobs_list() -> Response:
    return RedirectResponse("/", status_code=308)


@pages.post("/jobs")
async def submit(
    request: Request,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    tenant: TenantDep,
) -> Response:
    """The upload form: the job page on success (303), else the form with the problems."""
    check_same_origin(request)
    status_code = 422
    async with request.form(max_files=1, max_fields=50) as form:
        fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
        upload = form.get("file")
        errors = []
        if not isinstance(upload, StarletteUploadFile) or not (upload.filename or upload.size):
            errors.append("Choose a play file to upload.")
        options, problems = job_options(fields)
        errors += problems
        if not errors:
            key = fields.get("idempotency_key", "")
            try:
                created = await create_job(
                    request=request,
                    file=cast(UploadFile, upload),
                    session=session,
                    temporal=temporal,
                    settings=settings,
                    tenant=tenant,
                    idempotency_key=key if 0 < len(key) <= 255 else None,
                    **options,
                )
            except Problem as problem:
                await session.rollback()
                errors.append(plain_problem(problem))
                status_code = problem.status
            else:
                job_id = json.loads(bytes(created.body))["id"]
                return RedirectResponse(f"/jobs/{job_id}", status_code=303)
    values = _form_defaults(settings) | fields
    return await _index(
        request,
        session,
        settings,
        tenant,
        states=[],
        q="",
        values=values,
        errors=errors,
        status_code=status_code,
    )


# --- a job -------------------------------------------------------------------------------------


async def _job_page(
    request: Request,
    session: SessionDep,
    settings: Settings,
    tenant: str,
    job_id: str,
    *,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        job = await load_job(session, tenant, job_id)
    except Problem as problem:
        return not_found(request, problem.detail)
    # The newest events: a long job's end matters more than its first thousand chunks.
    events, earlier = await jobs_repo.latest_events(session, job_id=job.id, limit=MAX_EVENTS_SHOWN)
    context = {
        "job": JobPublic.of(job),
        "events": [JobEventPublic.of(event) for event in events],
        "earlier_events": earlier,
        "temporal_url": temporal_ui_url(settings, job.id),
        "actions": BUTTONS,
        "notice": notice,
    }
    return page(request, "job.html", context, status_code=status_code)


@pages.get("/jobs/{job_id}")
async def job_page(
    request: Request,
    job_id: str,
    session: SessionDep,
    settings: SettingsDep,
    tenant: TenantDep,
    done: JobAction | None = None,
) -> Response:
    """A job: progress, counters, errors, the actions its state allows, its events."""
    notice = DONE[done.value] if done else None
    return await _job_page(request, session, settings, tenant, job_id, notice=notice)


@pages.get("/jobs/{job_id}/row")
async def job_row(
    request: Request, job_id: str, session: SessionDep, tenant: TenantDep
) -> Response:
    """One row of the jobs table, for app.js to add when a new job appears."""
    job = await load_job(session, tenant, job_id)
    return page(request, "_job_row.html", {"job": JobPublic.of(job)})


@pages.get("/jobs/{job_id}/live")
async def job_live(
    request: Request,
    job_id: str,
    session: SessionDep,
    tenant: TenantDep,
    after: Annotated[int, Query(ge=0, le=MAX_BIGINT)] = 0,
) -> Response:
    """The job page's progress panel and the events after `after`, for app.js to swap in."""
    job = await load_job(session, tenant, job_id)
    events = await jobs_repo.list_events(session, job_id=job.id, after_id=after, limit=500)
    context = {"job": JobPublic.of(job), "events": [JobEventPublic.of(e) for e in events]}
    return page(request, "_live.html", context)


@pages.post("/jobs/{job_id}/{action}")
async def job_action(
    request: Request,
    job_id: str,
    action: JobAction,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    tenant: TenantDep,
) -> Response:
    """A button of the job page: the API's control, then back to the job page."""
    check_same_origin(request)
    try:
        if action == JobAction.RETRY:
            await control.retry_job(
                job_id=job_id, session=session, temporal=temporal, settings=settings, tenant=tenant
            )
        else:
            steer = {
                JobAction.PAUSE: control.pause_job,
                JobAction.RESUME: control.resume_job,
                JobAction.CANCEL: control.cancel_job,
            }[action]
            await steer(job_id=job_id, session=session, temporal=temporal, tenant=tenant)
    except Problem as problem:
        await session.rollback()
        if problem.status == 404:
            return not_found(request, problem.detail)
        notice = f"Could not {action.value} the job: {sentence(problem.detail)}"
        return await _job_page(
            request, session, settings, tenant, job_id, notice=notice, status_code=problem.status
        )
    return RedirectResponse(f"/jobs/{job_id}?done={action.value}", status_code=303)


router = APIRouter()
router.include_router(jobs_stream.router)
router.include_router(exports.router)
router.include_router(pages)
router.include_router(play_page.router)
