"""The jobs list as Server-Sent Events: the page's jobs table, kept live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.deps import TenantDep
from api.routes.stream import KEEP_ALIVE_S, get_sessions
from api.schemas import JobPublic
from playparse.db import jobs as jobs_repo
from playparse.db.job_search import search_jobs
from playparse.db.models import Job
from playparse.jobs import JobStatus

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

LIST_POLL_INTERVAL_S = 0.5

StatusQuery = Annotated[list[JobStatus] | None, Query(description="Only jobs in these states.")]
FilenameQuery = Annotated[
    str | None, Query(max_length=255, description="Only jobs whose file name contains this.")
]


@router.get("/stream", response_class=EventSourceResponse)
async def stream_jobs(
    request: Request,
    tenant: TenantDep,
    sessions: Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)],
    status: StatusQuery = None,
    q: FilenameQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AsyncIterable[ServerSentEvent]:
    """The newest jobs (filtered by `status` and file name `q`) as `job` events.

    Each job of that first page is sent once when the stream starts and again whenever it
    changes (data as in `GET /api/jobs/{id}`); a job submitted later is sent when it appears,
    and a job that leaves the filter (a running one that completes, say) is sent once more as
    it now is, so its row does not go stale. The stream does not end by itself.
    """
    loop = asyncio.get_running_loop()
    sent: dict[str, tuple[object, ...]] = {}
    quiet_since = loop.time()
    statuses = [s.value for s in status or []]
    while not await request.is_disconnected():
        async with sessions() as session:
            jobs, _ = await search_jobs(
                session, tenant_id=tenant, statuses=statuses, filename_contains=q, limit=limit
            )
            # Jobs shown before that the filter no longer finds: their last state.
            listed = {job.id for job in jobs}
            left = await jobs_repo.get_jobs(
                session,
                job_ids=[job_id for job_id in sent if job_id not in listed],
                tenant_id=tenant,
            )
        current: dict[str, tuple[object, ...]] = {}
        changed = [JobPublic.of(job) for job in left if _state(job) != sent[job.id]]
        for job in reversed(jobs):  # oldest first, so new rows land in order at the top
            current[job.id] = _state(job)
            if sent.get(job.id) != current[job.id]:
                changed.append(JobPublic.of(job))
        sent = current
        for public in changed:
            yield ServerSentEvent(event="job", data=public)
        if changed:
            quiet_since = loop.time()
        elif loop.time() - quiet_since >= KEEP_ALIVE_S:
            yield ServerSentEvent(comment="keep-alive")
            quiet_since = loop.time()
        await asyncio.sleep(LIST_POLL_INTERVAL_S)


def _state(job: Job) -> tuple[object, ...]:
    """What the jobs table shows of a job, to tell when it changed."""
    return (job.updated_at, job.status, job.stage, job.chunks_done, job.priority)
