"""Repository functions on SQLite and PostgreSQL: idempotent writes, pagination, saved plays."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from playparse import schema
from playparse.db import jobs as repo
from playparse.db import plays as plays_repo
from playparse.jobs import JobError, JobStatus


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
        await repo.store_chunks(session, job_id=job.id, rows=rows)
        await repo.store_chunks(session, job_id=job.id, rows=rows)
    row = {
        "job_id": job.id,
        "index": 1,
        "provider": "heuristic",
        "model": None,
        "result": {"items": []},
        "lines": 3,
        "chars": 40,
    }
    async with sessions.begin() as session:
        assert await repo.store_chunk_result(session, row=row) is True
    async with sessions.begin() as session:
        assert await repo.store_chunk_result(session, row=row | {"lines": 99}) is False
    async with sessions() as session:
        stored = await repo.get_job(session, job_id=job.id)
        chunk, text = await repo.chunk_with_text(session, job_id=job.id, index=1)
        assert await repo.finished_chunk_indexes(session, job_id=job.id) == [1]
    assert stored is not None
    assert (stored.chunks_total, stored.chunks_done, stored.lines_found) == (2, 1, 3)
    assert (chunk.start, text) == (5, "fghij")


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
