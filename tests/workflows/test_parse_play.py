"""ParsePlayWorkflow on the Temporal dev server with the real activities and databases."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities.chunks import ChunkActivities
from activities.jobs import JobActivities
from activities.types import JobRef, ParseChunkInput, RecordStateInput
from playparse.assemble import parse_text
from playparse.config import Settings
from playparse.db import chunks as chunks_repo
from playparse.db import jobs as repo
from playparse.db import plays as plays_repo
from playparse.db.models import ChunkResult
from playparse.llm.base import default_providers
from tests.helpers import EXAMPLE, create_job, start_job


async def test_a_play_is_parsed_chunk_by_chunk_into_a_saved_playbook(
    temporal: Client,
    worker: Worker,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    job = await create_job(sessions, EXAMPLE.read_bytes(), filename=EXAMPLE.name)
    handle = await start_job(temporal, task_queue, job)
    result = await handle.result()

    async with sessions() as session:
        stored = await repo.get_job(session, job_id=job.id)
        events = await repo.list_events(session, job_id=job.id)
        play = await plays_repo.play_for_job(session, job_id=job.id)
        assert play is not None
        playbook = await plays_repo.load_playbook(session, play=play)
    assert stored is not None
    assert stored.status == "completed" and stored.completed_at is not None
    assert stored.chunks_total == result.chunks > 10
    assert stored.chunks_done == stored.chunks_total
    assert stored.play_id == play.id == result.play_id
    # The durable path gives exactly what the in-process pipeline gives.
    assert playbook.export() == parse_text(text, 2500).export()
    kinds = [event.kind for event in events]
    assert kinds[:3] == ["submitted", "started", "stage"]
    assert kinds.count("chunk") == stored.chunks_total
    assert kinds[-1] == "completed"

    # Temporal users find the job by its search attributes.
    found = [
        wf.id
        async for wf in temporal.list_workflows(
            f"WorkflowId = '{job.id}' AND JobStatus = 'completed'"
        )
    ]
    assert found == [job.id]
    # Document text and parse output never travel through Temporal payloads.
    history = await handle.fetch_history()
    assert "Klagen, nichts als Klagen" not in history.to_json()


async def test_a_completed_job_counts_the_lines_of_its_playbook(
    temporal: Client,
    worker: Worker,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Small chunks split many speeches: each part counts as a line in its chunk's result.
    job = await create_job(sessions, EXAMPLE.read_bytes(), chunk_size=200)
    result = await (await start_job(temporal, task_queue, job)).result()

    async with sessions() as session:
        stored = await repo.get_job(session, job_id=job.id)
        (completed,), _ = await repo.latest_events(session, job_id=job.id, limit=1)
        play = await plays_repo.play_for_job(session, job_id=job.id)
        assert play is not None
        playbook = await plays_repo.load_playbook(session, play=play)
        per_chunk = await session.scalar(
            select(func.sum(ChunkResult.lines)).where(ChunkResult.job_id == job.id)
        )
    items = [item for act in playbook.acts for scene in act.scenes for item in scene.items]
    lines = sum(1 for item in items if item.type == "line")
    assert per_chunk is not None and per_chunk > lines
    assert stored is not None and completed.kind == "completed"
    assert stored.lines_found == result.lines == completed.detail["lines"] == lines

    # A later recount of the job's counters (a run's start) keeps the play's figure.
    async with sessions.begin() as session:
        await chunks_repo.refresh_counters(session, job_id=job.id)
    async with sessions() as session:
        recounted = await repo.get_job(session, job_id=job.id)
    assert recounted is not None and recounted.lines_found == lines


async def test_a_file_without_text_fails_at_once_with_a_readable_reason(
    temporal: Client,
    worker: Worker,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    job = await create_job(sessions, b"   \n\n  \t \n")
    handle = await start_job(temporal, task_queue, job)
    with pytest.raises(WorkflowFailureError) as raised:
        await handle.result()
    assert isinstance(raised.value.cause, ApplicationError)
    assert raised.value.cause.non_retryable
    async with sessions() as session:
        stored = await repo.get_job(session, job_id=job.id)
    assert stored is not None and stored.status == "failed"
    assert stored.error_type in ("EmptyDocument", "NoTextFound")
    assert stored.error_message and "text" in stored.error_message.lower()
    history = await handle.fetch_history()
    attempts = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    # record_state(started) and one extraction attempt, then record_state(failed): no retries.
    assert all(e.activity_task_started_event_attributes.attempt == 1 for e in attempts)


async def test_planning_a_run_gives_back_reservations_left_by_lost_attempts(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    job = await create_job(sessions, EXAMPLE.read_bytes(), chunk_size=5000)
    jobs = JobActivities(sessions, settings)
    env = ActivityEnvironment()
    await env.run(jobs.extract_text, JobRef(job.id))
    async with sessions.begin() as session:
        # A chunk's likely spending, held by an attempt whose worker was killed mid-call.
        assert await repo.reserve_budget(session, job_id=job.id, tokens=900, usd=0.5) is None
    await env.run(jobs.plan_chunks, JobRef(job.id))
    async with sessions() as session:
        planned = await repo.get_job(session, job_id=job.id)
    assert planned is not None
    assert (planned.reserved_tokens, planned.reserved_usd) == (0, 0.0)


async def test_a_state_record_run_again_after_it_committed_records_nothing_twice(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    job = await create_job(sessions, EXAMPLE.read_bytes())
    jobs = JobActivities(sessions, settings)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_run_id="run-1", activity_id="1")
    started = RecordStateInput(job.id, status="running", stage="extracting", event="started")
    assert await env.run(jobs.record_state, started)
    # The same activity again (its first completion lost), then the workflow's next record.
    env.info = dataclasses.replace(env.info, attempt=2)
    assert await env.run(jobs.record_state, started)
    env.info = dataclasses.replace(env.info, activity_id="2", attempt=1)
    planning = RecordStateInput(job.id, stage="planning", event="stage")
    assert await env.run(jobs.record_state, planning)
    # A continued run records its own start.
    env.info = dataclasses.replace(env.info, workflow_run_id="run-2", activity_id="1")
    assert await env.run(jobs.record_state, started)
    async with sessions() as session:
        events = await repo.list_events(session, job_id=job.id)
        stored = await repo.get_job(session, job_id=job.id)
    assert [(e.kind, e.origin) for e in events] == [
        ("submitted", None),
        ("started", "run-1/1"),
        ("stage", "run-1/2"),
        ("started", "run-2/1"),
    ]
    assert stored is not None and stored.stage == "extracting"


async def test_chunk_activity_run_twice_keeps_one_result_and_parses_once(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    job = await create_job(sessions, EXAMPLE.read_bytes(), chunk_size=5000)
    jobs = JobActivities(sessions, settings)
    env = ActivityEnvironment()
    await env.run(jobs.extract_text, JobRef(job.id))
    await env.run(jobs.extract_text, JobRef(job.id))
    plan = await env.run(jobs.plan_chunks, JobRef(job.id))
    again = await env.run(jobs.plan_chunks, JobRef(job.id))
    assert plan.chunks_total == again.chunks_total > 1

    chunks = ChunkActivities(sessions, default_providers())
    first = await env.run(chunks.parse_chunk, ParseChunkInput(job.id, 0, "heuristic"))
    second = await env.run(chunks.parse_chunk, ParseChunkInput(job.id, 0, "heuristic"))
    assert (first.reused, second.reused) == (False, True)
    assert first.lines == second.lines > 0
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(ChunkResult).where(ChunkResult.job_id == job.id)
        )
        stored = await repo.get_job(session, job_id=job.id)
    assert count == 1
    assert stored is not None and stored.chunks_done == 1
