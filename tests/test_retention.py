"""Retention on the dev server and both databases: old ended jobs go, everything else stays.

Other tests share the session's database, so the old jobs here ended ~25 years ago and the
retention window is 9,000 days: nothing another test leaves behind is that old, and the counts
below are exact.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleOverlapPolicy,
)
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities.retention import PurgeInput, PurgeResult, RetentionActivities
from playparse.config import Settings
from playparse.db import jobs as repo
from playparse.db import plays as plays_repo
from playparse.db.models import (
    Act,
    Character,
    Chunk,
    ChunkResult,
    Document,
    Job,
    JobEvent,
    Line,
    Play,
    Scene,
    utcnow,
)
from playparse.schedules import (
    RETENTION_SCHEDULE_ID,
    ensure_retention_schedule,
    retention_schedule_id,
    set_namespace_retention,
)
from tests.helpers import EXAMPLE, create_job, start_job
from workflows.retention import RetentionInput, RetentionWorkflow

RETENTION_DAYS = 9000
LONG_AGO = timedelta(days=RETENTION_DAYS + 100)
JUST_INSIDE = timedelta(days=RETENTION_DAYS - 1)


def opening_scenes() -> bytes:
    """The first pages of the example play: a real parse in a few chunks."""
    text = EXAMPLE.read_text(encoding="utf-8")[:12000]
    return text[: text.rindex("\n\n")].encode()


async def parsed_job(temporal: Client, task_queue: str, sessions: async_sessionmaker) -> Job:
    """A job parsed for real: events, chunks, chunk results and a saved play."""
    job = await create_job(sessions, opening_scenes(), filename="emilia.txt")
    await (await start_job(temporal, task_queue, job)).result()
    async with sessions() as session:
        done = await repo.get_job(session, job_id=job.id)
    assert done is not None and done.status == "completed" and done.play_id
    return done


async def set_job(
    sessions: async_sessionmaker[AsyncSession], job_id: str, ago: timedelta, **values: object
) -> None:
    """Move a job's timestamps `ago` into the past (and set other columns)."""
    when = utcnow() - ago
    async with sessions.begin() as session:
        await session.execute(
            update(Job).where(Job.id == job_id).values(created_at=when, updated_at=when, **values)
        )


async def ended_long_ago(sessions: async_sessionmaker, job_id: str, status: str) -> None:
    await set_job(sessions, job_id, LONG_AGO, status=status, completed_at=utcnow() - LONG_AGO)


async def rows(
    sessions: async_sessionmaker,
    table: type[JobEvent] | type[Chunk] | type[ChunkResult],
    job_ids: list[str],
) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(table).where(table.job_id.in_(job_ids))
        return int((await session.execute(query)).scalar_one())


async def purge(temporal: Client, task_queue: str, *, delete_plays: bool = False) -> PurgeResult:
    return await temporal.execute_workflow(
        RetentionWorkflow.run,
        RetentionInput(retention_days=RETENTION_DAYS, delete_plays=delete_plays, batch_size=2),
        id=f"retention-{uuid.uuid4()}",
        task_queue=task_queue,
    )


async def test_old_ended_jobs_go_with_their_rows_and_everything_else_stays(
    temporal: Client, worker: Worker, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    completed = await parsed_job(temporal, task_queue, sessions)
    failed = await create_job(sessions, b"ALICE. One.\n")
    cancelled = await create_job(sessions, b"BOB. Two.\n")
    await ended_long_ago(sessions, completed.id, "completed")
    await ended_long_ago(sessions, failed.id, "failed")
    await ended_long_ago(sessions, cancelled.id, "cancelled")
    recent = await create_job(sessions, b"CARL. Three.\n")
    await set_job(
        sessions, recent.id, JUST_INSIDE, status="completed", completed_at=utcnow() - JUST_INSIDE
    )
    running = await create_job(sessions, b"DORA. Four.\n")
    await set_job(sessions, running.id, LONG_AGO, status="running", started_at=utcnow())
    queued = await create_job(sessions, b"EMIL. Five.\n")
    await set_job(sessions, queued.id, LONG_AGO)
    # A job still using the failed job's document keeps that document alive.
    sharing = "job_" + secrets.token_hex(8)
    async with sessions.begin() as session:
        session.add(
            Job(
                id=sharing,
                tenant_id="default",
                document_id=failed.document_id,
                filename="shared.txt",
                format="txt",
                status="queued",
                provider="heuristic",
            )
        )
    old = [completed.id, failed.id, cancelled.id]
    kept = [recent.id, running.id, queued.id, sharing]
    expected = {table: await rows(sessions, table, old) for table in (JobEvent, Chunk, ChunkResult)}
    assert expected[ChunkResult] == expected[Chunk] == completed.chunks_total > 1
    async with sessions() as session:
        play = await plays_repo.get_play(session, play_id=completed.play_id or "")
        assert play is not None
        playbook = await plays_repo.load_playbook(session, play=play)

    result = await purge(temporal, task_queue)

    assert (result.jobs, result.documents, result.plays_kept, result.plays_deleted) == (3, 2, 1, 0)
    assert result.events == expected[JobEvent]
    assert (result.chunks, result.chunk_results) == (expected[Chunk], expected[ChunkResult])
    assert result.batches == 2  # batch_size=2
    async with sessions() as session:
        gone = [await repo.get_job(session, job_id=job_id) for job_id in old]
        left = [await repo.get_job(session, job_id=job_id) for job_id in kept]
        mine = [completed.document_id, failed.document_id, cancelled.document_id]
        documents = set(await session.scalars(select(Document.id).where(Document.id.in_(mine))))
        # The play stays readable, still naming the job that produced it.
        play = await plays_repo.get_play(session, play_id=completed.play_id or "")
        assert play is not None and play.job_id == completed.id
        assert (await plays_repo.load_playbook(session, play=play)) == playbook
    assert gone == [None, None, None]
    assert [job.status if job else None for job in left] == [
        "completed",
        "running",
        "queued",
        "queued",
    ]
    assert documents == {failed.document_id}
    for table in (JobEvent, Chunk, ChunkResult):
        assert await rows(sessions, table, old) == 0
    assert await rows(sessions, JobEvent, [recent.id, running.id, queued.id]) == 3

    again = await purge(temporal, task_queue)
    assert (again.jobs, again.events, again.documents, again.batches) == (0, 0, 0, 0)


async def test_saved_plays_go_too_when_asked(
    temporal: Client, worker: Worker, task_queue: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    job = await parsed_job(temporal, task_queue, sessions)
    await ended_long_ago(sessions, job.id, "completed")

    result = await purge(temporal, task_queue, delete_plays=True)

    assert (result.jobs, result.plays_deleted, result.plays_kept) == (1, 1, 0)
    async with sessions() as session:
        for column in (Play.id, Character.play_id, Act.play_id, Scene.play_id, Line.play_id):
            count = await session.execute(select(func.count()).where(column == job.play_id))
            assert count.scalar_one() == 0, column


async def scheduled_run(handle: ScheduleHandle, timeout: float = 30.0) -> str:
    """The workflow id of the schedule's latest run, once it has started one."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        actions = (await handle.describe()).info.recent_actions
        if actions:
            action = actions[-1].action
            assert isinstance(action, ScheduleActionExecutionStartWorkflow)
            return action.workflow_id
        assert asyncio.get_running_loop().time() < deadline, "the schedule started no run"
        await asyncio.sleep(0.1)


async def test_the_schedule_is_kept_once_and_runs_retention(
    temporal: Client,
    worker: Worker,
    task_queue: str,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    job = await create_job(sessions, b"ALICE. One.\n")
    await ended_long_ago(sessions, job.id, "failed")
    daily = settings.model_copy(update={"retention_days": RETENTION_DAYS})
    handle = await ensure_retention_schedule(temporal, daily)
    try:
        # Paused by an operator; a worker starting again updates it and leaves it paused.
        await handle.pause(note="held by a test")
        twice_a_day = daily.model_copy(update={"retention_every_hours": 12})
        handle = await ensure_retention_schedule(temporal, twice_a_day)

        schedule_id = retention_schedule_id(task_queue)
        described = await handle.describe()
        assert described.id == schedule_id
        assert [each.every for each in described.schedule.spec.intervals] == [timedelta(hours=12)]
        assert described.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert described.schedule.state.paused
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == ("RetentionWorkflow", task_queue)
        for _ in range(100):
            listed = [s.id async for s in await temporal.list_schedules()]
            if schedule_id in listed:
                break
            await asyncio.sleep(0.1)
        assert listed.count(schedule_id) == 1

        await handle.unpause()
        await handle.trigger()
        run = temporal.get_workflow_handle_for(RetentionWorkflow.run, await scheduled_run(handle))
        result = await run.result()
    finally:
        await handle.delete()

    assert result.jobs == 1
    async with sessions() as session:
        assert await repo.get_job(session, job_id=job.id) is None


def test_the_default_deployment_keeps_its_schedule_id() -> None:
    assert retention_schedule_id(Settings().task_queue) == RETENTION_SCHEDULE_ID
    assert retention_schedule_id("playparse-eu") == "playparse-retention-playparse-eu"


async def test_deployments_sharing_a_namespace_keep_a_schedule_each(
    temporal: Client, settings: Settings
) -> None:
    first = settings.model_copy(update={"task_queue": f"first-{uuid.uuid4().hex[:8]}"})
    second = settings.model_copy(update={"task_queue": f"second-{uuid.uuid4().hex[:8]}"})
    handles = [await ensure_retention_schedule(temporal, first)]
    try:
        handles.append(await ensure_retention_schedule(temporal, second))
        # The second deployment's start leaves the first one's schedule as it was.
        for handle, deployment in zip(handles, (first, second), strict=True):
            described = await handle.describe()
            assert described.id == retention_schedule_id(deployment.task_queue)
            action = described.schedule.action
            assert isinstance(action, ScheduleActionStartWorkflow)
            assert action.task_queue == deployment.task_queue
            assert action.id == described.id
        assert handles[0].id != handles[1].id
    finally:
        for handle in handles:
            await handle.delete()


async def test_the_namespace_keeps_closed_workflows_as_long_as_the_jobs(
    temporal: Client, caplog: pytest.LogCaptureFixture
) -> None:
    async def config() -> NamespaceConfig:
        described = await temporal.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=temporal.namespace)
        )
        return described.config

    before = await config()
    assert await set_namespace_retention(temporal, temporal.namespace, 30)
    after = await config()
    assert after.workflow_execution_retention_ttl.ToTimedelta() == timedelta(days=30)
    # Nothing else about the namespace changes (the search attributes above all).
    after.ClearField("workflow_execution_retention_ttl")
    before.ClearField("workflow_execution_retention_ttl")
    assert after == before
    assert await set_namespace_retention(temporal, temporal.namespace, 30)

    with caplog.at_level(logging.WARNING, logger="playparse.schedules"):
        refused = await set_namespace_retention(temporal, "no-such-namespace", 30)
    assert not refused
    assert "could not set the workflow retention" in caplog.text


async def test_a_retried_purge_reports_what_earlier_attempts_removed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The totals ride on the heartbeats, so an attempt after a crash adds to them."""
    job = await create_job(sessions, b"ALICE. One.\n")
    await ended_long_ago(sessions, job.id, "cancelled")
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, heartbeat_details=[{"jobs": 500, "events": 900, "batches": 1}]
    )
    beats: list[object] = []
    env.on_heartbeat = lambda *details: beats.extend(details)
    cutoff = utcnow() - timedelta(days=RETENTION_DAYS)

    result = await env.run(RetentionActivities(sessions).purge_old_jobs, PurgeInput(cutoff=cutoff))

    assert (result.jobs, result.events, result.documents, result.batches) == (501, 901, 1, 2)
    assert beats and all(isinstance(beat, dict) and beat["jobs"] >= 500 for beat in beats)
