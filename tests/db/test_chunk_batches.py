"""Finished chunks stored in batches (one transaction for all that finished together)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.chunk_writer import ChunkWriter
from playparse.db import chunks as chunks_repo
from playparse.db import jobs as repo
from playparse.db.chunks import FinishedChunk
from playparse.db.models import LlmCache
from playparse.jobs import JobStatus
from tests.db.test_repository import planned_job


def finished(job_id: str, index: int, **extra: Any) -> FinishedChunk:
    row = {
        "job_id": job_id,
        "index": index,
        "provider": "openai",
        "model": "m",
        "result": {"items": []},
        "lines": 2,
        "chars": 10,
        "speakers": [f"SPEAKER {index % 3}"],
        "input_tokens": 100,
        "output_tokens": 10,
        "cost_usd": 0.5,
        "cached": False,
    }
    return FinishedChunk(row=row, **extra)


async def test_a_batch_counts_each_new_chunk_once_and_reports_the_running_count(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, second = await planned_job(sessions, 4), await planned_job(sessions, 2)
    async with sessions.begin() as session:
        await repo.reserve_budget(session, job_id=first, tokens=300, usd=3.0)
    key = "k-" + secrets.token_hex(8)
    answer = {
        "key": key,
        "provider": "openai",
        "model": "m",
        "prompt_version": "v",
        "result": {"items": []},
        "input_tokens": 100,
        "output_tokens": 10,
    }
    batch = [
        finished(first, 0, reserved=(100, 1.0), answer=answer),
        finished(second, 1),
        finished(first, 2, reserved=(100, 1.0)),
        # The same chunk twice in one batch (an attempt that ran twice) counts once.
        finished(first, 2, reserved=(100, 1.0)),
    ]
    async with sessions.begin() as session:
        counted = await chunks_repo.store_finished(session, batch)
    assert [c.chunks_done if c else None for c in counted] == [1, 1, 2, None]
    async with sessions.begin() as session:
        # Stored before: nothing is counted again.
        again = await chunks_repo.store_finished(session, [finished(first, 0)])
    assert again == [None]
    async with sessions() as session:
        job = await repo.get_job(session, job_id=first)
        other = await repo.get_job(session, job_id=second)
        events = await repo.list_events(session, job_id=first)
        kept = await session.scalar(select(func.count()).where(LlmCache.key == key))
    assert job is not None and other is not None
    assert (job.chunks_done, job.lines_found, job.input_tokens, job.characters_found) == (
        2,
        4,
        200,
        2,
    )
    assert (job.reserved_tokens, job.reserved_usd) == (0, 0.0)
    assert (other.chunks_done, other.characters_found) == (1, 1)
    chunk_events = [e.detail for e in events if e.kind == "chunk"]
    assert [(d["index"], d["chunks_done"], d["chunks_total"]) for d in chunk_events] == [
        (0, 1, 4),
        (2, 2, 4),
    ]
    assert kept == 1


async def test_chunks_finishing_together_share_transactions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    job_id = await planned_job(sessions, 12)
    writer = ChunkWriter(sessions)
    transactions = 0
    store = chunks_repo.store_finished

    async def counting(session: AsyncSession, chunks: Any) -> Any:
        nonlocal transactions
        transactions += 1
        return await store(session, chunks)

    chunks_repo.store_finished = counting  # type: ignore[assignment]
    try:
        counted = await asyncio.gather(*(writer.store(finished(job_id, i)) for i in range(12)))
        # All twelve finished before the writer's first turn: one transaction.
        assert transactions == 1
        assert await writer.store(finished(job_id, 0)) is None
        assert transactions == 2
    finally:
        chunks_repo.store_finished = store  # type: ignore[assignment]
    assert sorted(c.chunks_done for c in counted if c) == list(range(1, 13))


async def test_a_chunk_that_cannot_be_stored_fails_only_its_own_attempt(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    job_id = await planned_job(sessions, 3)
    writer = ChunkWriter(sessions)
    broken = finished(job_id, 1)
    broken.row["lines"] = None  # lines is NOT NULL
    outcomes = await asyncio.gather(
        writer.store(finished(job_id, 0)),
        writer.store(broken),
        writer.store(finished(job_id, 2)),
        return_exceptions=True,
    )
    assert outcomes[0] is not None and not isinstance(outcomes[0], BaseException)
    assert isinstance(outcomes[1], Exception)
    assert outcomes[2] is not None and not isinstance(outcomes[2], BaseException)
    async with sessions() as session:
        assert await chunks_repo.finished_chunk_indexes(session, job_id=job_id) == [0, 2]


async def test_a_chunk_stored_for_a_job_that_has_ended_keeps_the_time_of_its_end(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # A reset workflow runs on for a job recorded failed; the reconciler sees the job as ended
    # `stale_after` ago only if the new run's chunks leave updated_at alone.
    job_id = await planned_job(sessions, 3)
    async with sessions.begin() as session:
        await repo.record_state(session, job_id=job_id, status=JobStatus.RUNNING, event="started")
        await repo.record_state(session, job_id=job_id, status=JobStatus.FAILED, event="failed")
        ended = (await repo.get_job(session, job_id=job_id)).updated_at  # type: ignore[union-attr]
    await asyncio.sleep(0.05)
    async with sessions.begin() as session:
        await chunks_repo.store_finished(session, [finished(job_id, 0)])
    async with sessions() as session:
        job = await repo.get_job(session, job_id=job_id)
    assert job is not None and job.chunks_done == 1
    assert job.updated_at == ended
