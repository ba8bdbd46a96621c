"""Repository functions for documents, jobs, job events and chunks: the job projection."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from playparse.db.locking import get_for_update
from playparse.db.models import (
    Chunk,
    ChunkResult,
    Document,
    Job,
    JobEvent,
    ProviderHealth,
    utcnow,
)
from playparse.db.upsert import insert_ignoring_conflicts
from playparse.heuristic_patterns import label_key
from playparse.jobs import JobError, JobStatus, can_transition

# The tables themselves, for the statements a chunk runs on every completion: the ORM's
# bulk-DML handling of mapped classes costs more than the statements.
JOBS = cast(Table, Job.__table__)
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
        return datetime.fromisoformat(created), str(job_id)
    except (ValueError, TypeError) as error:
        raise ValueError("malformed cursor") from error


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


class EventSource(Protocol):
    """The job fields an event copies: a Job row, or a chunk's counted job."""

    @property
    def id(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def status(self) -> str: ...


async def add_event(
    session: AsyncSession, *, job: EventSource, kind: str, detail: dict[str, Any] | None = None
) -> None:
    await session.execute(
        insert(EVENTS).values(
            job_id=job.id,
            tenant_id=job.tenant_id,
            kind=kind,
            status=job.status,
            detail=detail or {},
            created_at=utcnow(),
        )
    )


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
) -> Job | None:
    """Move the job projection to a new status/stage and log the event; None if not allowed.

    A final job accepts nothing but a retry back to `queued`, so a late write from an activity
    that finished after a cancel cannot resurrect it. Leaving `retrying` clears the retry's
    attempt and error; entering the parsing stage or resuming restarts the pace measurement.
    """
    job = await get_for_update(session, Job, job_id)
    if job is None:
        return None
    current = JobStatus(job.status)
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
        await add_event(session, job=job, kind=event, detail=detail)
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


async def store_chunks(
    session: AsyncSession, *, job_id: str, rows: Sequence[dict[str, Any]]
) -> None:
    """Record the chunk plan; planning again yields the same rows, so repeats are ignored."""
    await insert_ignoring_conflicts(
        session, Chunk, [{"job_id": job_id, **row} for row in rows], keys=["job_id", "index"]
    )
    await session.execute(update(Job).where(Job.id == job_id).values(chunks_total=len(rows)))


@dataclass(frozen=True)
class ChunkWork:
    """What the chunk activity needs, read in one statement."""

    text: str
    context: dict[str, Any]
    fresh: bool
    budget_tokens: int | None
    budget_usd: float | None
    # (lines, chars) of the result already stored for this chunk, if any.
    stored: tuple[int, int] | None
    # The provider's breaker: resting until (if set), and failures in a row.
    open_until: datetime | None
    consecutive_failures: int


async def chunk_work(
    session: AsyncSession, *, job_id: str, index: int, provider: str = ""
) -> ChunkWork | None:
    """A planned chunk: its text (cut by the database), context, job settings, stored result,
    and the health of `provider`. None when the job or the chunk does not exist.
    """
    row = (
        await session.execute(
            select(
                func.substr(Document.text, Chunk.start + 1, Chunk.end - Chunk.start),
                Chunk.context,
                Job.fresh,
                Job.budget_tokens,
                Job.budget_usd,
                ChunkResult.lines,
                ChunkResult.chars,
                ProviderHealth.open_until,
                ProviderHealth.consecutive_failures,
            )
            .select_from(Chunk)
            .join(Job, Job.id == Chunk.job_id)
            .join(Document, Document.id == Job.document_id)
            .outerjoin(
                ChunkResult,
                (ChunkResult.job_id == Chunk.job_id) & (ChunkResult.index == Chunk.index),
            )
            .outerjoin(ProviderHealth, ProviderHealth.provider == provider)
            .where(Chunk.job_id == job_id, Chunk.index == index)
        )
    ).one_or_none()
    if row is None:
        return None
    text, context, fresh, budget_tokens, budget_usd, lines, chars, until, failures = row
    return ChunkWork(
        text=text or "",
        context=context,
        fresh=fresh,
        budget_tokens=budget_tokens,
        budget_usd=budget_usd,
        stored=None if lines is None else (lines, chars),
        open_until=until if until is not None and until > utcnow() else None,
        consecutive_failures=failures or 0,
    )


async def finished_chunk_indexes(session: AsyncSession, *, job_id: str) -> list[int]:
    result = await session.execute(
        select(ChunkResult.index).where(ChunkResult.job_id == job_id).order_by(ChunkResult.index)
    )
    return list(result.scalars())


@dataclass(frozen=True)
class CountedChunk:
    """The job as a newly stored chunk result left it."""

    id: str
    tenant_id: str
    status: str
    chunks_done: int
    chunks_total: int


async def store_chunk_result(session: AsyncSession, *, row: dict[str, Any]) -> CountedChunk | None:
    """Keep a chunk's result once and count it on the job; None if it was already kept.

    The result counts only in the transaction that inserted it, so a repeated write cannot
    inflate the counters, and the counters are added to in the UPDATE itself, so chunks
    finishing at the same time count one after the other. The insert takes SQLite's write
    lock and the UPDATE PostgreSQL's row lock before the speaker set is read and extended.
    """
    new = await insert_ignoring_conflicts(session, ChunkResult, [row], keys=["job_id", "index"])
    if not new:
        return None
    job_id = row["job_id"]
    jobs = JOBS.c
    counted = (
        await session.execute(
            update(JOBS)
            .where(jobs.id == job_id)
            .values(
                chunks_done=jobs.chunks_done + 1,
                lines_found=jobs.lines_found + row["lines"],
                chars_found=jobs.chars_found + row["chars"],
                input_tokens=jobs.input_tokens + (row.get("input_tokens") or 0),
                output_tokens=jobs.output_tokens + (row.get("output_tokens") or 0),
                cost_usd=jobs.cost_usd + (row.get("cost_usd") or 0.0),
                chunks_cached=jobs.chunks_cached + int(bool(row.get("cached"))),
                updated_at=utcnow(),
            )
            .returning(
                jobs.tenant_id, jobs.status, jobs.chunks_done, jobs.chunks_total, jobs.speaker_keys
            )
        )
    ).one()
    tenant_id, status, done, total, known = counted
    if known is None:
        await refresh_counters(session, job_id=job_id)
    else:
        speakers = set(known) | {label_key(label) for label in row.get("speakers") or ()}
        if len(speakers) > len(known):
            await session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(speaker_keys=sorted(speakers), characters_found=len(speakers))
                .execution_options(synchronize_session=False)
            )
    return CountedChunk(job_id, tenant_id, status, done, total)


async def refresh_counters(session: AsyncSession, *, job_id: str) -> None:
    """Recompute the job's counters from all its stored results (a run's start, old rows)."""
    done, lines, chars, input_tokens, output_tokens, cost, cached = (
        await session.execute(
            select(
                func.count(ChunkResult.index),
                func.coalesce(func.sum(ChunkResult.lines), 0),
                func.coalesce(func.sum(ChunkResult.chars), 0),
                func.coalesce(func.sum(ChunkResult.input_tokens), 0),
                func.coalesce(func.sum(ChunkResult.output_tokens), 0),
                func.coalesce(func.sum(ChunkResult.cost_usd), 0.0),
                func.count(ChunkResult.index).filter(ChunkResult.cached.is_(True)),
            ).where(ChunkResult.job_id == job_id)
        )
    ).one()
    speakers: set[str] = set()
    for labels in await session.scalars(
        select(ChunkResult.speakers).where(ChunkResult.job_id == job_id)
    ):
        speakers.update(label_key(label) for label in labels or ())
    await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            chunks_done=done,
            lines_found=lines,
            chars_found=chars,
            characters_found=len(speakers),
            speaker_keys=sorted(speakers),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost,
            chunks_cached=cached,
            updated_at=utcnow(),
        )
    )


async def chunk_results(session: AsyncSession, *, job_id: str) -> list[ChunkResult]:
    result = await session.execute(
        select(ChunkResult).where(ChunkResult.job_id == job_id).order_by(ChunkResult.index)
    )
    return list(result.scalars())


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


async def release_budget(session: AsyncSession, *, job_id: str, tokens: int, usd: float) -> None:
    """Give back a chunk's reservation once its real spending is recorded (or it failed)."""
    job = await get_for_update(session, Job, job_id)
    if job is not None:
        job.reserved_tokens = max(0, job.reserved_tokens - tokens)
        job.reserved_usd = max(0.0, job.reserved_usd - usd)
