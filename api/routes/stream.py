"""A job's audit trail as Server-Sent Events, followed live until the job reaches a final state."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.deps import TenantDep, get_session
from api.problems import Problem
from api.routes.jobs import JOB_NOT_FOUND, load_job
from api.schemas import JobEventPublic
from playparse.db import jobs as jobs_repo
from playparse.ids import MAX_BIGINT
from playparse.jobs import JobStatus

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

POLL_INTERVAL_S = 0.25
# FastAPI sends its own ": ping" after 15 s without output; ours comes first, so an idle
# stream carries one keep-alive comment rather than two.
KEEP_ALIVE_S = 14.0
PAGE_SIZE = 500
_DIGITS = re.compile(r"[0-9]{1,19}")

# Closed as soon as the job has been checked, before the stream starts: a stream may last for
# hours and must not keep a connection (or a transaction) open while it waits.
CheckSessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


class NothingMoreToStream(Exception):
    """The job has ended and the client has all its events.

    Answered with 204 No Content, which tells an EventSource to stop reconnecting: an empty
    200 stream would have it reconnect every few seconds for as long as the page stays open.
    """


async def nothing_more_to_stream(request: Request, exc: Exception) -> Response:
    """The answer to NothingMoreToStream (registered in api.app)."""
    return Response(status_code=204)


def stream_start(
    after: Annotated[
        int, Query(ge=0, le=MAX_BIGINT, description="Send events with ids above this one.")
    ] = 0,
    last_event_id: Annotated[
        str | None,
        Header(description="Resume after this event id; takes precedence over `after`."),
    ] = None,
) -> int:
    """The event id the stream starts after: Last-Event-ID when sent, else `after`."""
    if last_event_id is None or not last_event_id.strip():
        return after
    value = last_event_id.strip()
    if not _DIGITS.fullmatch(value) or int(value) > MAX_BIGINT:
        raise Problem(
            400, "invalid-last-event-id", "Last-Event-ID must be the id of an event of this stream"
        )
    return int(value)


async def streamed_job_id(
    job_id: str,
    start: Annotated[int, Depends(stream_start)],
    session: CheckSessionDep,
    tenant: TenantDep,
) -> str:
    """The job's id once it is known to exist for this tenant (404 otherwise) and to have
    something left to stream."""
    job = await load_job(session, tenant, job_id)
    if JobStatus(job.status).is_final and not await jobs_repo.list_events(
        session, job_id=job.id, after_id=start, limit=1
    ):
        raise NothingMoreToStream
    return job.id


def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


@router.get(
    "/{job_id}/stream",
    response_class=EventSourceResponse,
    responses={
        204: {"description": "The job has ended and every event was sent already"},
        400: {"description": "Last-Event-ID is not an event id (invalid-last-event-id)"},
        **JOB_NOT_FOUND,
    },
)
async def stream_job_events(
    request: Request,
    job_id: Annotated[str, Depends(streamed_job_id)],
    start: Annotated[int, Depends(stream_start)],
    tenant: TenantDep,
    sessions: Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)],
) -> AsyncIterable[ServerSentEvent]:
    """The job's events as they happen (`id`, `event` = kind, `data` = the event as in /events).

    Sends the stored events after Last-Event-ID (or `after`), then new ones as they are recorded,
    with a `: keep-alive` comment when idle; ends once the job is completed, failed or cancelled
    and every event up to then was sent. A job can be retried after it ended: reconnecting with
    Last-Event-ID sends whatever is new, and 204 when there is nothing new.
    """
    loop = asyncio.get_running_loop()
    last_id = start
    quiet_since = loop.time()
    while not await request.is_disconnected():
        # A short session per poll. The status is read before the events: the final event is
        # committed with the final status, so a final status means this read has every event.
        async with sessions() as session:
            job = await jobs_repo.get_job(session, job_id=job_id, tenant_id=tenant)
            final = job is None or JobStatus(job.status).is_final
            events = [
                JobEventPublic.of(event)
                for event in await jobs_repo.list_events(
                    session, job_id=job_id, after_id=last_id, limit=PAGE_SIZE
                )
            ]
        for event in events:
            yield ServerSentEvent(id=str(event.id), event=event.kind, data=event)
            last_id = event.id
        if len(events) == PAGE_SIZE:
            continue
        if final:
            return
        if events:
            quiet_since = loop.time()
        elif loop.time() - quiet_since >= KEEP_ALIVE_S:
            yield ServerSentEvent(comment="keep-alive")
            quiet_since = loop.time()
        await asyncio.sleep(POLL_INTERVAL_S)
