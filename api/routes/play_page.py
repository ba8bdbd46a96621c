"""The reading page: a parsed play for people, with contents, downloads and one character's lines.

It shows what `GET /api/jobs/{id}/result` answers (or `?partial=true`), rendered by
playparse.render; `?character=ID` (and `&cues=true`) is a plain link, so it works without
JavaScript.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import SessionDep, TenantDep
from api.problems import Problem
from api.routes import exports
from api.routes.jobs import load_job
from api.schemas import JobPublic
from api.web import not_found, page
from playparse import render

router = APIRouter(include_in_schema=False)


def _url(path: str, query: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


@router.get("/jobs/{job_id}/play")
async def play_page(
    request: Request,
    job_id: str,
    session: SessionDep,
    tenant: TenantDep,
    partial: bool = False,
    character: Annotated[str, Query(max_length=128)] = "",
    cues: bool = False,
) -> Response:
    """The parsed play to read: cast, acts and scenes, downloads, one character's lines."""
    try:
        row, playbook, _ = await exports.job_playbook(session, tenant, job_id, partial=partial)
    except Problem as problem:
        if problem.status == 404:
            return not_found(request, problem.detail)
        return await _not_ready(request, session, tenant, job_id, problem)
    job = JobPublic.of(row)
    selected = next((c for c in playbook.characters if c.id == character), None)
    if character and selected is None:
        return not_found(request, f"the play has no character with id {character!r}")
    base = [("partial", "true")] if partial else []
    shown = [*base, ("character", character)] + ([("cues", "true")] if cues else [])
    api_path = f"/api/jobs/{job.id}/result"
    context = {
        "job": job,
        "play": playbook,
        "subtitle": render.part_subtitle(selected, cues) if selected else playbook.subtitle,
        "acts": render.contents(playbook, selected.id if selected else None, cues=cues),
        "characters": playbook.characters,
        "character": selected,
        "cues": cues,
        "partial": partial,
        "downloads": {
            "json": _url(api_path, base),
            "md": _url(f"{api_path}.md", shown if selected else base),
            "txt": _url(f"{api_path}.txt", shown if selected else base),
        },
        "json_name": exports.download_name(row, None, ".playbook.json"),
        "whole_play_url": _url(f"/jobs/{job.id}/play", base),
        "part_url": lambda cid: _url(f"/jobs/{job.id}/play", [*base, ("character", cid)]),
    }
    return page(request, "play.html", context)


async def _not_ready(
    request: Request, session: SessionDep, tenant: str, job_id: str, problem: Problem
) -> Response:
    job = JobPublic.of(await load_job(session, tenant, job_id))
    message = f"The job is {job.status.value}, so the whole play is not there yet."
    context = {
        "heading": "The play is not ready",
        "message": message,
        "job": job,
        "partial_url": f"/jobs/{job.id}/play?partial=true" if job.chunks_done else None,
    }
    return page(request, "error.html", context, status_code=problem.status)
