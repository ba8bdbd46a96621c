"""Chunks of a job: the plan, what a chunk activity reads, and the results it stores.

Chunk activities finish many at a time, so their results are stored in batches
(`store_finished`): one transaction and a handful of statements for all the chunks that
finished while the previous batch was being written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from playparse.db.jobs import EVENTS, record_state
from playparse.db.models import (
    Chunk,
    ChunkResult,
    Document,
    Job,
    Line,
    LlmCache,
    ProviderHealth,
    utcnow,
)
from playparse.db.upsert import insert_ignoring_conflicts, insert_new
from playparse.heuristic_patterns import label_key
from playparse.jobs import FINAL_STATES, JobStatus

# The tables themselves: the ORM's bulk-DML handling of mapped classes costs more than these
# statements, which run for every finished chunk.
JOBS = cast(Table, Job.__table__)


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
    # The cache key the chunk was planned with, and the answer cached under it (None: none).
    cache_key: str | None = None
    cached: dict[str, Any] | None = None


# Built once: the statement runs for every chunk, and a statement object that is reused keeps
# its compiled form and cache key instead of building them again.
_CHUNK_WORK = (
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
        Chunk.cache_key,
        LlmCache.result,
    )
    .select_from(Chunk)
    .join(Job, Job.id == Chunk.job_id)
    .join(Document, Document.id == Job.document_id)
    .outerjoin(
        ChunkResult,
        (ChunkResult.job_id == Chunk.job_id) & (ChunkResult.index == Chunk.index),
    )
    .outerjoin(ProviderHealth, ProviderHealth.provider == bindparam("provider"))
    .outerjoin(LlmCache, LlmCache.key == Chunk.cache_key)
    .where(Chunk.job_id == bindparam("job_id"), Chunk.index == bindparam("index"))
)


async def chunk_work(
    db: AsyncSession | AsyncConnection, *, job_id: str, index: int, provider: str = ""
) -> ChunkWork | None:
    """A planned chunk: its text (cut by the database), context, job settings, stored result,
    cached answer, and the health of `provider`. None when the job or the chunk does not exist.

    `db` may be a session or, cheaper for this one read, a plain connection.
    """
    row = (
        await db.execute(_CHUNK_WORK, {"job_id": job_id, "index": index, "provider": provider})
    ).one_or_none()
    if row is None:
        return None
    text, context, fresh, budget_tokens, budget_usd, lines, chars, until, failures, key, cached = (
        row
    )
    return ChunkWork(
        text=text or "",
        context=context,
        fresh=fresh,
        budget_tokens=budget_tokens,
        budget_usd=budget_usd,
        stored=None if lines is None else (lines, chars),
        open_until=until if until is not None and until > utcnow() else None,
        consecutive_failures=failures or 0,
        cache_key=key,
        cached=cached,
    )


async def finished_chunk_indexes(session: AsyncSession, *, job_id: str) -> list[int]:
    result = await session.execute(
        select(ChunkResult.index).where(ChunkResult.job_id == job_id).order_by(ChunkResult.index)
    )
    return list(result.scalars())


async def refresh_counters(session: AsyncSession, *, job_id: str) -> None:
    """Recompute the job's counters from all its stored results (a run's start, old rows).

    Once the job has a play, `lines_found` is the play's number of lines (see `play_lines`):
    the chunks' own counts are only an estimate, counting a speech split across two chunks
    in both.
    """
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
    play_id = await session.scalar(select(Job.play_id).where(Job.id == job_id))
    if play_id is not None:
        lines = await play_lines(session, play_id=play_id)
    await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            chunks_done=done,
            lines_found=lines,
            chars_found=chars,
            characters_found=len(speakers),
            speaker_keys=sorted(speakers),
            # What was paid for answers not kept stays counted.
            input_tokens=Job.unused_input_tokens + input_tokens,
            output_tokens=Job.unused_output_tokens + output_tokens,
            cost_usd=Job.unused_cost_usd + cost,
            chunks_cached=cached,
            updated_at=utcnow(),
        )
    )


async def play_lines(session: AsyncSession, *, play_id: str) -> int:
    """The spoken lines of a saved play: what its job's `lines_found` says once assembled."""
    count = await session.scalar(
        select(func.count(Line.id)).where(Line.play_id == play_id, Line.kind == "line")
    )
    return int(count or 0)


async def chunk_results(session: AsyncSession, *, job_id: str) -> list[ChunkResult]:
    result = await session.execute(
        select(ChunkResult).where(ChunkResult.job_id == job_id).order_by(ChunkResult.index)
    )
    return list(result.scalars())


@dataclass
class FinishedChunk:
    """Everything a chunk activity stores once its provider has answered."""

    # The chunk_results row (job_id, index, provider, model, result, lines, chars, speakers,
    # tokens, cost_usd, cached).
    row: dict[str, Any]
    attempt: int = 1
    # The provider's answer for the response cache (an llm_cache row), if it is to be kept.
    answer: dict[str, Any] | None = None
    # Likely spending held on the job before the call, given back now: (tokens, usd).
    reserved: tuple[int, float] | None = None
    # A provider whose run of failures this success ends.
    reset_breaker: str | None = None


@dataclass(frozen=True)
class CountedChunk:
    """The job as a newly stored chunk result left it."""

    id: str
    tenant_id: str
    status: str
    chunks_done: int
    chunks_total: int


@dataclass
class _JobBatch:
    """The finished chunks of one job within a batch."""

    new: list[FinishedChunk] = field(default_factory=list)
    tokens: int = 0
    usd: float = 0.0


async def store_finished(
    session: AsyncSession, finished: Sequence[FinishedChunk]
) -> list[CountedChunk | None]:
    """Store finished chunks; for each, the job as it counted it, or None if already stored.

    A result counts only in the transaction that inserted it, so a repeated write (an attempt
    that ran twice) cannot inflate the counters; the counters are added to in the UPDATE
    itself. PostgreSQL's lock on the job rows, and SQLite's write lock taken by the insert, are
    held before each job's speaker set is read and extended.
    """
    if not finished:
        return []
    if (await session.connection()).dialect.name == "postgresql":
        # The job rows first, in one order: a result's insert takes a key-share lock on its
        # job, and one that later wants the row for its counters while another transaction
        # waits to lock it (a budget reservation, say) would deadlock with it. SQLite has one
        # writer at a time and no row locks: there the insert's write lock is enough.
        await session.execute(
            select(JOBS.c.id)
            .where(JOBS.c.id.in_(sorted({chunk.row["job_id"] for chunk in finished})))
            .order_by(JOBS.c.id)
            .with_for_update(key_share=True)
        )
    new_keys = await insert_new(
        session, ChunkResult, [chunk.row for chunk in finished], keys=["job_id", "index"]
    )
    jobs: dict[str, _JobBatch] = defaultdict(_JobBatch)
    seen: set[tuple[str, int]] = set()
    for chunk in finished:
        key = (chunk.row["job_id"], chunk.row["index"])
        batch = jobs[key[0]]
        if key in new_keys and key not in seen:
            seen.add(key)
            batch.new.append(chunk)
        if chunk.reserved is not None:
            batch.tokens += chunk.reserved[0]
            batch.usd += chunk.reserved[1]
    counted: dict[tuple[str, int], CountedChunk] = {}
    events: list[dict[str, Any]] = []
    for job_id, batch in jobs.items():
        for chunk, after in await _count(session, job_id, batch):
            counted[(job_id, chunk.row["index"])] = after
            events.append(_event(chunk, after))
    if events:
        await session.execute(insert(EVENTS), events)
    answers = [chunk.answer for chunk in finished if chunk.answer is not None]
    if answers:
        await insert_ignoring_conflicts(session, LlmCache, answers, keys=["key"])
    for provider in {chunk.reset_breaker for chunk in finished if chunk.reset_breaker}:
        await session.execute(
            update(ProviderHealth)
            .where(ProviderHealth.provider == provider, ProviderHealth.consecutive_failures > 0)
            .values(consecutive_failures=0, open_until=None, updated_at=utcnow())
        )
    for chunk in finished:
        job = counted.get((chunk.row["job_id"], chunk.row["index"]))
        # Only the chunk that was being retried ends the job's `retrying`; other chunks
        # finishing meanwhile leave it, since that chunk still waits for its next attempt.
        if job is not None and job.status == JobStatus.RETRYING.value and chunk.attempt > 1:
            await record_state(
                session,
                job_id=job.id,
                status=JobStatus.RUNNING,
                event="recovered",
                detail={"chunk": chunk.row["index"], "attempt": chunk.attempt},
            )
    # A chunk twice in the batch counted once: its first entry.
    return [counted.pop((chunk.row["job_id"], chunk.row["index"]), None) for chunk in finished]


async def _count(
    session: AsyncSession, job_id: str, batch: _JobBatch
) -> list[tuple[FinishedChunk, CountedChunk]]:
    """Add a job's newly stored chunks to its counters and give back their reservations.

    Each chunk is returned with the job as it stood after that chunk, as its event reports.
    """
    if not batch.new and not batch.tokens and not batch.usd:
        return []
    rows = [chunk.row for chunk in batch.new]
    c = JOBS.c
    # A job that has ended keeps the time of its end: the reconciler finds a failed or
    # cancelled job whose workflow runs again (a reset in Temporal) by how long ago that was,
    # and the run's own chunks must not keep making it look recent.
    final = [state.value for state in FINAL_STATES]
    values: dict[str, Any] = {
        "updated_at": case((c.status.in_(final), c.updated_at), else_=utcnow())
    }
    if rows:
        values.update(
            chunks_done=c.chunks_done + len(rows),
            lines_found=c.lines_found + sum(row["lines"] for row in rows),
            chars_found=c.chars_found + sum(row["chars"] for row in rows),
            input_tokens=c.input_tokens + sum(row.get("input_tokens") or 0 for row in rows),
            output_tokens=c.output_tokens + sum(row.get("output_tokens") or 0 for row in rows),
            cost_usd=c.cost_usd + sum(row.get("cost_usd") or 0.0 for row in rows),
            chunks_cached=c.chunks_cached + sum(bool(row.get("cached")) for row in rows),
        )
    if batch.tokens or batch.usd:
        values.update(
            reserved_tokens=case(
                (c.reserved_tokens > batch.tokens, c.reserved_tokens - batch.tokens), else_=0
            ),
            reserved_usd=case((c.reserved_usd > batch.usd, c.reserved_usd - batch.usd), else_=0.0),
        )
    found = (
        await session.execute(
            update(JOBS)
            .where(c.id == job_id)
            .values(values)
            .returning(c.tenant_id, c.status, c.chunks_done, c.chunks_total, c.speaker_keys)
        )
    ).one_or_none()
    if found is None or not rows:
        return []
    tenant_id, status, done, total, known = found
    if known is None:
        await refresh_counters(session, job_id=job_id)
    else:
        speakers = set(known)
        for row in rows:
            speakers.update(label_key(label) for label in row.get("speakers") or ())
        if len(speakers) > len(known):
            await session.execute(
                update(JOBS)
                .where(c.id == job_id)
                .values(speaker_keys=sorted(speakers), characters_found=len(speakers))
            )
    first = done - len(rows)
    return [
        (chunk, CountedChunk(job_id, tenant_id, status, first + number, total))
        for number, chunk in enumerate(batch.new, start=1)
    ]


def _event(chunk: FinishedChunk, job: CountedChunk) -> dict[str, Any]:
    row = chunk.row
    return {
        "job_id": job.id,
        "tenant_id": job.tenant_id,
        "kind": "chunk",
        "status": job.status,
        "created_at": utcnow(),
        "detail": {
            "index": row["index"],
            "lines": row["lines"],
            "chars": row["chars"],
            "chunks_done": job.chunks_done,
            "chunks_total": job.chunks_total,
            "attempt": chunk.attempt,
            "cached": bool(row.get("cached")),
            "input_tokens": row.get("input_tokens") or 0,
            "output_tokens": row.get("output_tokens") or 0,
        },
    }
