"""Repository functions for documents, jobs, job events and chunks: the job projection."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from playparse.db.locking import get_for_update
from playparse.db.models import (
    Document,
    Job,
    JobEvent,
    utcnow,
)
from playparse.ids import is_valid_id
from playparse.jobs import JobError, JobStatus, can_transition

# The events table itself: the ORM's bulk-DML handling of mapped classes costs more than the
# insert.
EVENTS = cast(Table, JobEvent.__table__)


@dataclass(frozen=True)
class NewJob:
    """What a submission asks for, after validation."""

    job_id: str
    document_id: str
    tenant_id: str
    filename: str
    format: str
    content: bytes
    sha256: str
    provider: str
    model: str | None
    priority: int
    concurrency: int
    chunk_size: int
    batch_key: str | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    budget_tokens: int | None = None
    budget_usd: float | None = None
    fresh: bool = False


async def create_job(session: AsyncSession, *, new: NewJob) -> Job:
    """Store the document and a queued job with its `submitted` event (caller commits)."""
    session.add(
        Document(
            id=new.document_id,
            tenant_id=new.tenant_id,
            filename=new.filename,
            format=new.format,
            size_bytes=len(new.content),
            sha256=new.sha256,
            content=new.content,
        )
    )
    await session.flush()
    job = Job(
        id=new.job_id,
        tenant_id=new.tenant_id,
        document_id=new.document_id,
        filename=new.filename,
        format=new.format,
        status=JobStatus.QUEUED.value,
        provider=new.provider,
        model=new.model,
        priority=new.priority,
        concurrency=new.concurrency,
        chunk_size=new.chunk_size,
        batch_key=new.batch_key,
        idempotency_key=new.idempotency_key,
        request_hash=new.request_hash,
        budget_tokens=new.budget_tokens,
        budget_usd=new.budget_usd,
        fresh=new.fresh,
    )
    session.add(job)
    await session.flush()
    session.add(
        JobEvent(
            job_id=job.id,
            tenant_id=job.tenant_id,
            kind="submitted",
            status=job.status,
            detail={"filename": new.filename, "format": new.format, "bytes": len(new.content)},
        )
    )
    return job


async def get_job(
    session: AsyncSession, *, job_id: str, tenant_id: str | None = None
) -> Job | None:
    """The job, or None when it does not exist (or belongs to another tenant)."""
    job = await session.get(Job, job_id, populate_existing=True)
    if job is None or (tenant_id is not None and job.tenant_id != tenant_id):
        return None
    return job


async def get_jobs(session: AsyncSession, *, job_ids: Sequence[str], tenant_id: str) -> list[Job]:
    """Those of the jobs that exist for the tenant, in no particular order."""
    if not job_ids:
        return []
    query = select(Job).where(Job.tenant_id == tenant_id, Job.id.in_(list(job_ids)))
    return list((await session.execute(query)).scalars())


async def find_job_by_idempotency_key(
    session: AsyncSession, *, tenant_id: str, key: str
) -> Job | None:
    result = await session.execute(
        select(Job).where(Job.tenant_id == tenant_id, Job.idempotency_key == key)
    )
    return result.scalar_one_or_none()


def _encode_cursor(job: Job) -> str:
    raw = json.dumps([job.created_at.isoformat(), job.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) position a cursor points after; ValueError when malformed."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, job_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position = datetime.fromisoformat(created), str(job_id)
    except (ValueError, TypeError) as error:
        raise ValueError("malformed cursor") from error
    if not is_valid_id(position[1]):
        raise ValueError("malformed cursor")
    return position


async def list_jobs(
    session: AsyncSession,
    *,
    tenant_id: str,
    statuses: Sequence[str] = (),
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Job], str | None]:
    """Jobs newest first, with the cursor of the next page (None on the last page)."""
    query = select(Job).where(Job.tenant_id == tenant_id)
    if statuses:
        query = query.where(Job.status.in_(list(statuses)))
    if cursor is not None:
        created, job_id = decode_cursor(cursor)
        query = query.where(
            or_(Job.created_at < created, (Job.created_at == created) & (Job.id < job_id))
        )
    query = query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1)
    jobs = list((await session.execute(query)).scalars())
    next_cursor = _encode_cursor(jobs[limit - 1]) if len(jobs) > limit else None
    return jobs[:limit], next_cursor


async def add_event(
    session: AsyncSession,
    *,
    job: Job,
    kind: str,
    detail: dict[str, Any] | None = None,
    origin: str | None = None,
) -> None:
    await session.execute(
        insert(EVENTS).values(
            job_id=job.id,
            tenant_id=job.tenant_id,
            kind=kind,
            status=job.status,
            detail=detail or {},
            created_at=utcnow(),
            origin=origin,
        )
    )


async def recorded(session: AsyncSession, *, job_id: str, origin: str) -> bool:
    """Whether an event from `origin` (a workflow run's activity) is already stored."""
    found = await session.scalar(
        select(JobEvent.id).where(JobEvent.job_id == job_id, JobEvent.origin == origin)
    )
    return found is not None


async def list_events(
    session: AsyncSession, *, job_id: str, after_id: int = 0, limit: int = 500
) -> list[JobEvent]:
    query = (
        select(JobEvent)
        .where(JobEvent.job_id == job_id, JobEvent.id > after_id)
        .order_by(JobEvent.id)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def latest_events(
    session: AsyncSession, *, job_id: str, limit: int
) -> tuple[list[JobEvent], bool]:
    """The job's newest `limit` events, oldest first, and whether earlier ones were left out."""
    query = (
        select(JobEvent)
        .where(JobEvent.job_id == job_id)
        .order_by(JobEvent.id.desc())
        .limit(limit + 1)
    )
    newest = list((await session.execute(query)).scalars())
    return newest[:limit][::-1], len(newest) > limit


async def record_state(
    session: AsyncSession,
    *,
    job_id: str,
    status: JobStatus | None = None,
    stage: str | None = None,
    event: str | None = None,
    detail: dict[str, Any] | None = None,
    error: JobError | None = None,
    attempt: int | None = None,
    priority: int | None = None,
    origin: str | None = None,
    retried: bool = False,
) -> Job | None:
    """Move the job projection to a new status/stage and log the event; None if not allowed.

    A final job accepts nothing but a retry back to `queued`, so a late write from an activity
    that finished after a cancel cannot resurrect it. Leaving `retrying` clears the retry's
    attempt and error; entering the parsing stage or resuming restarts the pace measurement.
    A change whose `origin` is already recorded was made by an earlier attempt of the same
    activity and is not made again (looked up only when `retried`: a first attempt has none).
    """
    job = await get_for_update(session, Job, job_id)
    if job is None:
        return None
    if origin is not None and retried and await recorded(session, job_id=job_id, origin=origin):
        return job
    current = JobStatus(job.status)
    if status == JobStatus.CANCELLED and job.play_id is not None and not current.is_final:
        # The play was saved before the cancel took effect (they can reach the workflow in
        # the same task): the job has completed, and its play is never left behind a cancel.
        status, event = JobStatus.COMPLETED, "completed"
        detail = {"play_id": job.play_id, "cancel": "arrived after the play was saved"}
    if current == JobStatus.RETRYING and status == JobStatus.COMPLETED:
        # An attempt already superseded by a successful one can record `retrying` late; the
        # workflow completing says no chunk waits any more, so the job recovers on its way.
        await record_state(
            session, job_id=job_id, status=JobStatus.RUNNING, event="recovered", detail={}
        )
        current = JobStatus.RUNNING
    if status is not None and not can_transition(current, status):
        return None
    if status is None and current.is_final:
        return None
    now = utcnow()
    if status is not None:
        job.status = status.value
        if status == JobStatus.RUNNING and job.started_at is None:
            job.started_at = now
        if status.is_final:
            job.completed_at = now
        if status == JobStatus.QUEUED:
            job.completed_at = None
    if status == JobStatus.RETRYING:
        job.attempt = attempt
    elif status is not None and current == JobStatus.RETRYING:
        job.attempt = None
        if error is None and job.error_retryable:
            job.error_type = job.error_message = job.error_chunk = job.error_retryable = None
    if status == JobStatus.QUEUED:
        job.error_type = job.error_message = job.error_chunk = job.error_retryable = None
        job.attempt = None
    if stage is not None:
        job.stage = stage
    if stage == "parsing" or event == "resumed":
        job.pace_since, job.pace_chunks = now, job.chunks_done
    if priority is not None:
        job.priority = priority
    if error is not None:
        job.error_type = error.type
        job.error_message = error.message
        job.error_retryable = error.retryable
        job.error_chunk = error.chunk
    job.updated_at = now
    if event is not None:
        await add_event(session, job=job, kind=event, detail=detail, origin=origin)
    return job


async def store_text(
    session: AsyncSession, *, document_id: str, text: str, pages: int | None, encoding: str | None
) -> None:
    await session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(text=text, pages=pages, encoding=encoding)
    )


async def document_text_length(session: AsyncSession, *, document_id: str) -> int | None:
    """Characters of extracted text, or None when the document has not been extracted."""
    result = await session.execute(
        select(func.length(Document.text)).where(Document.id == document_id)
    )
    return result.scalar_one_or_none()


async def requeue(session: AsyncSession, *, job_id: str) -> Job | None:
    """Move a failed or cancelled job back to `queued` for another run; None if not allowed.

    The row is locked while it is checked, so two retries at once start one run.
    """
    job = await get_for_update(session, Job, job_id)
    if job is None or JobStatus(job.status) not in (JobStatus.FAILED, JobStatus.CANCELLED):
        return None
    job.runs += 1
    return await record_state(
        session,
        job_id=job_id,
        status=JobStatus.QUEUED,
        event="retried",
        detail={"run": job.runs, "previous": job.status},
    )


async def reserve_budget(
    session: AsyncSession, *, job_id: str, tokens: int, usd: float
) -> str | None:
    """Hold a chunk's likely spending against the job's budget; why not, if it would go over.

    The job row is locked, so chunks starting together see each other's reservations.
    """
    job = await get_for_update(session, Job, job_id)
    if job is None:
        return "the job no longer exists"
    if job.budget_tokens is not None:
        committed = job.input_tokens + job.output_tokens + job.reserved_tokens
        if committed + tokens > job.budget_tokens:
            return f"{job.input_tokens + job.output_tokens} of {job.budget_tokens} tokens spent"
    if job.budget_usd is not None and job.cost_usd + job.reserved_usd + usd > job.budget_usd:
        return f"${job.cost_usd:.4f} of ${job.budget_usd:.4f} spent"
    job.reserved_tokens += tokens
    job.reserved_usd += usd
    return None


async def release_budget(
    session: AsyncSession,
    *,
    job_id: str,
    tokens: int,
    usd: float,
    unused: tuple[int, int, float] = (0, 0, 0.0),
) -> None:
    """Give back a chunk's reservation once its real spending is recorded (or it failed).

    `unused` is what a failed attempt paid anyway (input and output tokens, cost): it counts
    towards the job's spending and its budget like a kept answer's.
    """
    job = await get_for_update(session, Job, job_id)
    if job is not None:
        job.reserved_tokens = max(0, job.reserved_tokens - tokens)
        job.reserved_usd = max(0.0, job.reserved_usd - usd)
        input_tokens, output_tokens, cost = unused
        job.unused_input_tokens += input_tokens
        job.unused_output_tokens += output_tokens
        job.unused_cost_usd += cost
        job.input_tokens += input_tokens
        job.output_tokens += output_tokens
        job.cost_usd += cost
