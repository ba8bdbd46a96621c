"""Repository functions on SQLite and PostgreSQL: idempotent writes, pagination, saved plays."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from playparse import schema
from playparse.db import chunks as chunks_repo
from playparse.db import jobs as repo
from playparse.db import plays as plays_repo
from playparse.db.engine import create_engine, create_sessionmaker
from playparse.db.migrate import upgrade
from playparse.db.models import Job
from playparse.jobs import JobError, JobStatus


async def store_one(session: AsyncSession, row: dict[str, Any]) -> chunks_repo.CountedChunk | None:
    """Store one finished chunk; the job as it counted it, None if it was stored before."""
    return (await chunks_repo.store_finished(session, [chunks_repo.FinishedChunk(row)]))[0]


async def planned_job(
    sessions: async_sessionmaker[AsyncSession], chunks: int, *, counted: bool = True
) -> str:
    """A job with `chunks` planned one-character chunks; `counted` as planning leaves it."""
    async with sessions.begin() as session:
        job = await repo.create_job(session, new=new_job())
        rows = [
            {"index": i, "start": i, "end": i + 1, "sha256": "x", "context": {}}
            for i in range(chunks)
        ]
        await chunks_repo.store_chunks(session, job_id=job.id, rows=rows)
        if counted:
            await chunks_repo.refresh_counters(session, job_id=job.id)
    return job.id


def new_job(**overrides: object) -> repo.NewJob:
    values: dict[str, object] = {
        "job_id": "job_" + secrets.token_hex(8),
        "document_id": "doc_" + secrets.token_hex(8),
        "tenant_id": "t-" + secrets.token_hex(4),
        "filename": "play.txt",
        "format": "txt",
        "content": b"HAMLET. To be.",
        "sha256": "0" * 64,
        "provider": "heuristic",
        "model": None,
        "priority": 3,
        "concurrency": 1,
        "chunk_size": 2500,
    }
    values.update(overrides)
    return repo.NewJob(**values)  # type: ignore[arg-type]


async def test_a_job_is_created_queued_with_a_submitted_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        job = await repo.create_job(session, new=new_job())
    async with sessions() as session:
        stored = await repo.get_job(session, job_id=job.id, tenant_id=job.tenant_id)
        events = await repo.list_events(session, job_id=job.id)
        assert await repo.get_job(session, job_id=job.id, tenant_id="another") is None
    assert stored is not None and stored.status == "queued"
    assert [e.kind for e in events] == ["submitted"]


async def test_state_changes_follow_the_state_machine(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        job = await repo.create_job(session, new=new_job())
    async with sessions.begin() as session:
        assert await repo.record_state(
            session, job_id=job.id, status=JobStatus.RUNNING, event="started"
        )
    async with sessions.begin() as session:
        failed = await repo.record_state(
            session,
            job_id=job.id,
            status=JobStatus.FAILED,
            event="failed",
            error=JobError("NoTextFound", "the file has no text"),
        )
        assert failed is not None and failed.completed_at is not None
    async with sessions.begin() as session:
        # A late write after the job ended changes nothing.
        assert await repo.record_state(session, job_id=job.id, status=JobStatus.RUNNING) is None
        assert await repo.record_state(session, job_id=job.id, stage="parsing") is None
    async with sessions() as session:
        stored = await repo.get_job(session, job_id=job.id)
        events = await repo.list_events(session, job_id=job.id)
    assert stored is not None
    assert (stored.status, stored.error_type) == ("failed", "NoTextFound")
    assert [e.kind for e in events] == ["submitted", "started", "failed"]


async def test_a_job_left_retrying_by_a_late_attempt_still_completes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        job = await repo.create_job(session, new=new_job())
        await repo.record_state(session, job_id=job.id, status=JobStatus.RUNNING, event="started")
        await repo.record_state(
            session,
            job_id=job.id,
            status=JobStatus.RETRYING,
            event="retrying",
            error=JobError("ProviderTimeout", "chunk 3: no answer", True, 3),
            attempt=1,
        )
    async with sessions.begin() as session:
        done = await repo.record_state(
            session, job_id=job.id, status=JobStatus.COMPLETED, event="completed"
        )
    assert done is not None
    async with sessions() as session:
        stored = await repo.get_job(session, job_id=job.id)
        events = await repo.list_events(session, job_id=job.id)
    assert stored is not None
    assert (stored.status, stored.error_type, stored.attempt) == ("completed", None, None)
    assert [e.kind for e in events][-3:] == ["retrying", "recovered", "completed"]


async def test_a_cancel_recorded_after_the_play_was_saved_completes_the_job(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        job = await repo.create_job(session, new=new_job())
        await repo.record_state(session, job_id=job.id, status=JobStatus.RUNNING, event="started")
        saved = await repo.get_job(session, job_id=job.id)
        assert saved is not None
        saved.play_id = "play_0123456789abcdef"
    async with sessions.begin() as session:
        ended = await repo.record_state(
            session, job_id=job.id, status=JobStatus.CANCELLED, event="cancelled", detail={}
        )
    assert ended is not None
    async with sessions() as session:
        stored = await repo.get_job(session, job_id=job.id)
        events = await repo.list_events(session, job_id=job.id)
    assert stored is not None and stored.status == "completed"
    assert (events[-1].kind, events[-1].detail) == (
        "completed",
        {"play_id": "play_0123456789abcdef", "cancel": "arrived after the play was saved"},
    )


async def test_what_a_failed_call_paid_for_stays_counted_when_results_are_recounted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        job = await repo.create_job(session, new=new_job())
        assert await repo.reserve_budget(session, job_id=job.id, tokens=500, usd=0.5) is None
    async with sessions.begin() as session:
        await repo.release_budget(
            session, job_id=job.id, tokens=500, usd=0.5, unused=(300, 40, 0.0015)
        )
    async with sessions.begin() as session:
        await chunks_repo.refresh_counters(session, job_id=job.id)
    async with sessions() as session:
        stored = await repo.get_job(session, job_id=job.id)
    assert stored is not None
    assert (stored.input_tokens, stored.output_tokens) == (300, 40)
    assert stored.cost_usd == pytest.approx(0.0015)
    assert (stored.reserved_tokens, stored.reserved_usd) == (0, 0.0)


async def test_chunk_results_are_kept_once_and_counters_do_not_inflate(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        job = await repo.create_job(session, new=new_job())
        await repo.store_text(
            session, document_id=job.document_id, text="abcdefghij", pages=None, encoding="utf-8"
        )
        rows = [
            {"index": i, "start": 5 * i, "end": 5 * i + 5, "sha256": "x", "context": {}}
            for i in range(2)
        ]
        await chunks_repo.store_chunks(session, job_id=job.id, rows=rows)
        await chunks_repo.store_chunks(session, job_id=job.id, rows=rows)
    row = {
        "job_id": job.id,
        "index": 1,
        "provider": "heuristic",
        "model": None,
        "result": {"items": []},
        "lines": 3,
        "chars": 40,
    }
    async with sessions() as session:
        work = await chunks_repo.chunk_work(session, job_id=job.id, index=1)
    assert work is not None
    assert (work.text, work.stored) == ("fghij", None)
    async with sessions.begin() as session:
        assert await store_one(session, row) is not None
    async with sessions.begin() as session:
        assert await store_one(session, row | {"lines": 99}) is None
    async with sessions() as session:
        stored = await repo.get_job(session, job_id=job.id)
        work = await chunks_repo.chunk_work(session, job_id=job.id, index=1)
        assert await chunks_repo.finished_chunk_indexes(session, job_id=job.id) == [1]
        assert await chunks_repo.chunk_work(session, job_id=job.id, index=2) is None
    assert stored is not None
    assert (stored.chunks_total, stored.chunks_done, stored.lines_found) == (2, 1, 3)
    assert work is not None and work.stored == (3, 40)


async def test_counting_chunks_one_by_one_agrees_with_recounting_them_all(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Not counted yet: like a job planned before speakers were kept on the job.
    job_id = await planned_job(sessions, 4, counted=False)

    def result(index: int, speakers: list[str], cached: bool = False) -> dict[str, object]:
        return {
            "job_id": job_id,
            "index": index,
            "provider": "openai",
            "model": "m",
            "result": {"items": []},
            "lines": 2 + index,
            "chars": 10 * index,
            "speakers": speakers,
            "input_tokens": 100,
            "output_tokens": 20 + index,
            "cost_usd": 0.25,
            "cached": cached,
        }

    async with sessions.begin() as session:
        # Jobs stored before speakers were kept on the job collect them with their next chunk.
        await store_one(session, result(0, ["HAMLET", "Horatio"]))
    async with sessions.begin() as session:
        await chunks_repo.refresh_counters(session, job_id=job_id)
        await session.execute(update(Job).where(Job.id == job_id).values(speaker_keys=None))
    async with sessions.begin() as session:
        await store_one(session, result(1, ["HORATIO", "Ghost"], cached=True))
    async with sessions.begin() as session:
        await store_one(session, result(3, ["GHOST", "Hamlet"]))
        await store_one(session, result(3, ["OSRIC"]))

    def counters(job: Job) -> tuple[object, ...]:
        return (
            job.chunks_done,
            job.lines_found,
            job.chars_found,
            job.characters_found,
            job.input_tokens,
            job.output_tokens,
            round(job.cost_usd, 6),
            job.chunks_cached,
        )

    async with sessions() as session:
        counted = await repo.get_job(session, job_id=job_id)
        assert counted is not None
        one_by_one = counters(counted)
    async with sessions.begin() as session:
        await chunks_repo.refresh_counters(session, job_id=job_id)
    async with sessions() as session:
        recounted = await repo.get_job(session, job_id=job_id)
        assert recounted is not None
    assert one_by_one == counters(recounted) == (3, 10, 40, 3, 300, 64, 0.75, 1)
    assert recounted.speaker_keys == counted.speaker_keys and len(counted.speaker_keys or ()) == 3


@pytest_asyncio.fixture
async def quiet_sessions(
    database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a database no other test's background job writes to while this one runs.

    SQLite has one writer for the whole file: jobs that earlier tests left running in the
    session's database would make these writers wait on them, not on each other.
    """
    if not database_url.startswith("sqlite"):
        yield sessions
        return
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'quiet.db'}")
    await upgrade(engine)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def test_concurrent_writers_to_one_job_lose_no_update(
    quiet_sessions: async_sessionmaker[AsyncSession],
) -> None:
    sessions = quiet_sessions
    job_id = await planned_job(sessions, 8)

    async def finish(index: int) -> None:
        async with sessions.begin() as session:
            await repo.reserve_budget(session, job_id=job_id, tokens=10, usd=0.5)
        async with sessions.begin() as session:
            row = {
                "job_id": job_id,
                "index": index,
                "provider": "heuristic",
                "model": None,
                "result": {"items": []},
                "lines": 1,
                "chars": 5,
                "speakers": [f"SPEAKER {index}"],
            }
            await store_one(session, row)

    await asyncio.gather(*(finish(index) for index in range(8)))
    async with sessions() as session:
        stored = await repo.get_job(session, job_id=job_id)
    assert stored is not None
    assert (stored.chunks_done, stored.lines_found, stored.characters_found) == (8, 8, 8)
    assert (stored.reserved_tokens, stored.reserved_usd) == (80, 4.0)


async def test_jobs_are_listed_newest_first_with_a_cursor(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant = "t-" + secrets.token_hex(4)
    ids = []
    for _ in range(5):
        async with sessions.begin() as session:
            ids.append((await repo.create_job(session, new=new_job(tenant_id=tenant))).id)
    seen: list[str] = []
    cursor = None
    async with sessions() as session:
        while True:
            page, cursor = await repo.list_jobs(session, tenant_id=tenant, limit=2, cursor=cursor)
            seen += [job.id for job in page]
            if cursor is None:
                break
        queued, _ = await repo.list_jobs(session, tenant_id=tenant, statuses=["completed"])
    assert seen == list(reversed(ids))
    assert queued == []


async def test_a_playbook_survives_the_round_trip_through_the_tables(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    playbook = schema.Playbook(
        title="Emilia Galotti",
        author="Lessing",
        language="de",
        characters=[schema.Character(id="prinz", name="Der Prinz", aliases=["Prinz"])],
        acts=[
            schema.Act(
                number=1,
                title="Erster Aufzug",
                scenes=[
                    schema.Scene(
                        number=1,
                        title="Erster Auftritt",
                        items=[
                            schema.DirectionItem(text="Ein Kabinett."),
                            schema.LineItem(
                                character_ids=["prinz"], text="Klagen!\nNichts als Klagen!"
                            ),
                        ],
                    ),
                ],
            ),
            schema.Act(number=None, title=None, scenes=[schema.Scene()]),
        ],
    )
    async with sessions.begin() as session:
        job = await repo.create_job(session, new=new_job())
        play = await plays_repo.save_playbook(
            session, job_id=job.id, tenant_id=job.tenant_id, playbook=playbook
        )
    async with sessions.begin() as session:
        again = await plays_repo.save_playbook(
            session, job_id=job.id, tenant_id=job.tenant_id, playbook=playbook
        )
        assert again.id == play.id
    async with sessions() as session:
        loaded = await plays_repo.load_playbook(session, play=play)
    assert loaded.export() == playbook.export()
    assert loaded.export()["schema"] == "playbook/v1"


async def test_a_play_assembled_from_what_a_model_may_send_is_saved_whole(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Numbers past the integer columns, a speaker as long as a sentence, a lone surrogate:
    # each once made the save fail, so the job retried its assembly and then failed.
    from playparse.assemble import assemble
    from playparse.llm.prompt import read_output

    answer = read_output(
        {
            "items": [
                {"type": "act", "text": "ACT", "number": 2**31},
                {"type": "scene", "text": "SCENE", "number": 10**20},
                {"type": "line", "text": "Hi.\ud800", "speakers": ["THE MAN " * 40]},
            ]
        }
    )
    playbook = assemble([answer])
    async with sessions.begin() as session:
        job = await repo.create_job(session, new=new_job())
        play = await plays_repo.save_playbook(
            session, job_id=job.id, tenant_id=job.tenant_id, playbook=playbook
        )
    async with sessions() as session:
        loaded = await plays_repo.load_playbook(session, play=play)
    assert loaded.export() == playbook.export()
