"""A paused job stays paused: across `kill -9` of its worker, of the Temporal server, and when
it was paused before any worker took it.

The pause lives in the workflow (a flag awaited before each chunk), so it is as durable as the
workflow's history: a new worker replays the history into a paused workflow, and a restarted
server restores that history from its SQLite file. The restart test runs real processes
(tests/processes.py); the queued test runs an in-process worker on the session's dev server.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import ResetStickyTaskQueueRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from playparse.assemble import parse_text
from playparse.config import Settings
from playparse.db import jobs as repo
from playparse.db import plays as plays_repo
from playparse.db.models import ChunkResult, Job
from tests.conftest import free_port
from tests.helpers import EXAMPLE, create_job, start_job, wait_for_status
from tests.processes import ChildProcess, Processes
from tests.test_crash_recovery import describe, read_job, wait_for_job
from workflows.parse_play import ParsePlayResult, ParsePlayWorkflow, Progress

TEXT = EXAMPLE.read_text(encoding="utf-8").split("Zweiter Aufzug")[0]
CHUNK_SIZE = 300  # the first act in about 80 chunks, a few seconds of parsing
# How long a paused job is watched for a chunk that should not come.
HOLD_S = 3.0
SHORT_HOLD_S = 2.0
# A worker that polls again after a server restart answers within this.
TEMPORAL_ANSWER_S = 30.0

# The ParsePlayWorkflow handle type, spelled once.
Handle = WorkflowHandle[ParsePlayWorkflow, ParsePlayResult]


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    group = Processes(tmp_path)
    try:
        yield group
    finally:
        group.kill_all()


async def stored_chunks(sessions: async_sessionmaker[AsyncSession], job_id: str) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(ChunkResult).where(ChunkResult.job_id == job_id)
        )
    return int(count or 0)


async def event_kinds(sessions: async_sessionmaker[AsyncSession], job_id: str) -> list[str]:
    async with sessions() as session:
        return [event.kind for event in await repo.list_events(session, job_id=job_id)]


async def workflow_progress(handle: Handle) -> Progress:
    """The workflow's own view, answered by a worker that replays the job's history."""
    return await asyncio.wait_for(handle.query(ParsePlayWorkflow.progress), TEMPORAL_ANSWER_S)


async def assert_stays_paused(
    sessions: async_sessionmaker[AsyncSession],
    handle: Handle,
    paused: Job,
    alive: tuple[ChildProcess, ...],
    what: str,
    hold: float = HOLD_S,
) -> None:
    """The workflow and the job row say paused, and no chunk is parsed for `hold` seconds.

    A pause signal is sent first: it is idempotent, and it makes the current worker run a
    workflow task on the replayed state, which is when a lost pause would start a chunk.
    """
    await handle.signal(ParsePlayWorkflow.pause)
    progress = await workflow_progress(handle)
    assert progress.paused and progress.status == "paused", f"{what}: {progress}"
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        job = await read_job(sessions, paused.id)
        assert job.status == "paused", f"{what}: {describe(job)}"
        assert job.chunks_done == paused.chunks_done, f"{what}: a chunk finished while paused"
        assert await stored_chunks(sessions, paused.id) == paused.chunks_done, what
        for process in alive:
            process.check_running()
        await asyncio.sleep(0.1)
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING


async def test_a_paused_job_stays_paused_across_kill_9_of_the_worker_and_of_temporal(
    processes: Processes,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    task_queue = f"pause-{uuid.uuid4().hex[:12]}"
    server = processes.temporal(free_port())
    server.start()
    client = await server.wait_ready()
    settings = {
        "temporal_address": server.address,
        "database_url": database_url,
        "task_queue": task_queue,
    }
    first = processes.worker(**settings)
    await first.start_polling()

    job = await create_job(sessions, TEXT.encode(), filename="act-1.txt", chunk_size=CHUNK_SIZE)
    handle: Handle = await start_job(client, task_queue, job)
    await wait_for_job(
        sessions,
        job.id,
        lambda j: j.chunks_done >= 10,
        "10 chunks",
        timeout=30,
        alive=(server, first),
    )
    await asyncio.wait_for(handle.execute_update(ParsePlayWorkflow.pause_job), 10)
    paused = await wait_for_job(
        sessions,
        job.id,
        lambda j: j.status == "paused",
        "paused",
        timeout=10,
        alive=(server, first),
    )
    assert 0 < paused.chunks_done < paused.chunks_total, describe(paused)

    first.kill()
    # Temporal would hold the next workflow task for the dead worker's sticky queue for 10 s
    # before giving it to any worker; an operator who knows the worker is gone says so.
    await client.workflow_service.reset_sticky_task_queue(
        ResetStickyTaskQueueRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=job.id)
        )
    )
    second = processes.worker(**settings)
    await second.start_polling()
    await assert_stays_paused(sessions, handle, paused, (server, second), "after a new worker")

    server.kill()
    assert server.process is not None and server.process.returncode == -9
    server.start()
    client = await server.wait_ready()
    handle = client.get_workflow_handle_for(ParsePlayWorkflow.run, job.id)
    await assert_stays_paused(
        sessions, handle, paused, (server, second), "after a restart", SHORT_HOLD_S
    )

    await asyncio.wait_for(handle.execute_update(ParsePlayWorkflow.resume_job), TEMPORAL_ANSWER_S)
    await wait_for_status(sessions, job.id, {"completed"}, timeout=30)
    result = await asyncio.wait_for(handle.result(), 15)
    assert result.chunks == paused.chunks_total

    async with sessions() as session:
        done = await repo.get_job(session, job_id=job.id)
        play = await plays_repo.play_for_job(session, job_id=job.id)
        assert done is not None and play is not None
        playbook = await plays_repo.load_playbook(session, play=play)
        indexes = list(
            (
                await session.scalars(
                    select(ChunkResult.index)
                    .where(ChunkResult.job_id == job.id)
                    .order_by(ChunkResult.index)
                )
            ).all()
        )
    assert playbook.export() == parse_text(TEXT, CHUNK_SIZE).export()
    assert indexes == list(range(done.chunks_total)), "one stored result per chunk"
    kinds = await event_kinds(sessions, job.id)
    assert kinds.count("chunk") == done.chunks_total, "a chunk was parsed as new twice"
    assert kinds.count("paused") == kinds.count("resumed") == 1, kinds
    assert kinds.index("paused") < kinds.index("resumed") < kinds.index("completed")


async def test_a_job_paused_while_queued_never_runs_until_resumed(
    temporal: Client,
    task_queue: str,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from worker import build_worker

    job = await create_job(sessions, TEXT.encode(), filename="act-1.txt")
    handle: Handle = await start_job(temporal, task_queue, job)
    # No worker exists yet; the signal waits in the workflow's history.
    await handle.signal(ParsePlayWorkflow.pause)

    seen: list[str] = []
    async with build_worker(temporal, settings, sessions):
        deadline = time.monotonic() + SHORT_HOLD_S
        while time.monotonic() < deadline:
            row = await read_job(sessions, job.id)
            if not seen or seen[-1] != row.status:
                seen.append(row.status)
            await asyncio.sleep(0.02)
        assert seen == ["queued", "paused"] or seen == ["paused"], seen
        paused = await read_job(sessions, job.id)
        assert paused.started_at is None and paused.stage is None, describe(paused)
        assert await event_kinds(sessions, job.id) == ["submitted", "paused"]
        progress = await workflow_progress(handle)
        assert progress.paused and progress.chunks_total == 0, progress

        await asyncio.wait_for(handle.execute_update(ParsePlayWorkflow.resume_job), 10)
        result = await asyncio.wait_for(handle.result(), 30)
    done = await read_job(sessions, job.id)
    assert done.status == "completed" and result.chunks == done.chunks_total > 1
    kinds = await event_kinds(sessions, job.id)
    assert kinds[:4] == ["submitted", "paused", "resumed", "started"], kinds
    assert kinds[-1] == "completed"
