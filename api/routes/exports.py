"""The parsed play as people read it: Markdown or a plain script, whole or one character's part."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Annotated, NamedTuple
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from api.deps import SessionDep, TenantDep
from api.problems import Problem
from api.routes.jobs import NOT_COMPLETED, Responses, get_job_result, load_job
from api.schemas import PARTIAL_HEADERS
from playparse import render
from playparse.db.models import Job
from playparse.schema import Playbook

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

PartialQuery = Annotated[
    bool, Query(description="Assemble the chunks parsed so far, in any state.")
]
CharacterQuery = Annotated[
    str | None, Query(max_length=128, description="Only this character's lines (its id).")
]
CuesQuery = Annotated[
    bool, Query(description="With `character`: each line after its cue (the line before it).")
]
_ERRORS: Responses = {
    404: {
        "description": (
            "No such job (job-not-found), or no such character in the play (character-not-found)"
        )
    },
    409: {"description": NOT_COMPLETED},
}


def _download(media_type: str, what: str) -> Responses:
    """The responses of a download route: its media type, then the errors."""
    return {
        200: {
            "description": f"The play {what}, as an attachment",
            "content": {media_type: {"schema": {"type": "string"}}},
            "headers": {
                "Content-Disposition": {
                    "description": "attachment, with the play's file name",
                    "schema": {"type": "string"},
                },
                **PARTIAL_HEADERS,
            },
        },
        **_ERRORS,
    }


class JobPlay(NamedTuple):
    job: Job
    playbook: Playbook
    # X-Playparse-Partial and the chunk counts, for a play assembled from the chunks so far.
    partial_headers: dict[str, str]


async def job_playbook(
    session: SessionDep, tenant: str, job_id: str, *, partial: bool = False
) -> JobPlay:
    """The job and its play, read as `GET /api/jobs/{id}/result` answers it (409 when unready)."""
    job = await load_job(session, tenant, job_id)
    result = await get_job_result(job_id, session, tenant, partial=partial)
    headers = {name: result.headers[name] for name in PARTIAL_HEADERS if name in result.headers}
    return JobPlay(job, Playbook.model_validate(json.loads(bytes(result.body))), headers)


def character_part(playbook: Playbook, character: str | None, cues: bool) -> Playbook:
    """The whole play, or one character's part; 404 for a character the play does not have."""
    if character is None:
        return playbook
    try:
        return render.part(playbook, character, cues=cues)
    except render.UnknownCharacter as error:
        raise Problem(404, "character-not-found", error.message) from error


def download_name(job: Job, character: str | None, suffix: str) -> str:
    stem = PurePosixPath(job.filename).stem or "play"
    return f"{stem}-{character}{suffix}" if character else f"{stem}{suffix}"


def attachment(name: str) -> str:
    """A Content-Disposition value that survives any file name (RFC 6266 with RFC 5987)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def _export(
    session: SessionDep,
    tenant: str,
    job_id: str,
    *,
    partial: bool,
    character: str | None,
    cues: bool,
    writer: Callable[[Playbook], str],
    media_type: str,
    suffix: str,
) -> Response:
    job, playbook, partial_headers = await job_playbook(session, tenant, job_id, partial=partial)
    text = writer(character_part(playbook, character, cues))
    return Response(
        text,
        media_type=media_type,
        headers={
            "Content-Disposition": attachment(download_name(job, character, suffix)),
            **partial_headers,
        },
    )


@router.get(
    "/{job_id}/result.md",
    response_class=Response,
    responses=_download("text/markdown", "as Markdown"),
)
async def get_job_result_markdown(
    job_id: str,
    session: SessionDep,
    tenant: TenantDep,
    partial: PartialQuery = False,
    character: CharacterQuery = None,
    cues: CuesQuery = False,
) -> Response:
    """The parsed play as Markdown (a download); `character` for one part alone."""
    return await _export(
        session,
        tenant,
        job_id,
        partial=partial,
        character=character,
        cues=cues,
        writer=render.to_markdown,
        media_type="text/markdown; charset=utf-8",
        suffix=".md",
    )


@router.get(
    "/{job_id}/result.txt",
    response_class=Response,
    responses=_download("text/plain", "as a plain-text script"),
)
async def get_job_result_script(
    job_id: str,
    session: SessionDep,
    tenant: TenantDep,
    partial: PartialQuery = False,
    character: CharacterQuery = None,
    cues: CuesQuery = False,
) -> Response:
    """The parsed play as a plain-text script (a download); `character` for one part alone."""
    return await _export(
        session,
        tenant,
        job_id,
        partial=partial,
        character=character,
        cues=cues,
        writer=render.to_script,
        media_type="text/plain; charset=utf-8",
        suffix=".txt",
    )
