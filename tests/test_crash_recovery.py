"""Crash recovery with real processes: `kill -9` of the worker or of Temporal in mid-job.

Each test runs its own `temporal server start-dev` (state in a SQLite file under tmp_path, the
project's search attributes and dynamic config) and `python worker.py` processes configured by
environment variables only, against a migrated database (SQLite and PostgreSQL). The job is the
first three acts of Emilia Galotti in 200-character chunks (about 350 chunks), so the crash lands
in the middle of the parsing stage.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError

from playparse.assemble import parse_text
from playparse.db import jobs as repo
from playparse.db import plays as plays_repo
from playparse.db.models import Chunk, ChunkResult, Document, Job, JobEvent, Play
from tests.conftest import free_port
from tests.helpers import EXAMPLE, create_job, start_job
from tests.processes import ChildProcess, Processes
from workflows.parse_play import ParsePlayResult

CHUNK_SIZE = 200
# Acts I-III: several hundred chunks, parsed in about 17 s on two cores.
CONTENT = EXAMPLE.read_text(encoding="utf-8").split("Vierter Aufzug")[0].encode()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    group = Processes(tmp_path)
    try:
        yield group
    finally:
        group.kill_all()


async def read_job(sessions: async_sessionmaker[AsyncSession], job_id: str) -> Job:
    async with sessions() as session:
        job = await repo.get_job(session, job_id=job_id)
    assert job is not None, f"job {job_id} vanished"
    return job


def describe(job: Job) -> str:
    return f"{job.status}/{job.stage} {job.chunks_done}/{job.chunks_total} chunks"


async def wait_for_job(
    sessions: async_sessionmaker[AsyncSession],
    job_id: str,
    until: Callable[[Job], bool],
    what: str,
    *,
    timeout: float,
    alive: tuple[ChildProcess, ...],
) -> Job:
    """Poll the jobs row until `until` holds; fail early if a process we rely on died."""
    deadline = time.monotonic() + timeout
    while True:
        job = await read_job(sessions, job_id)
        if until(job):
            return job
        assert job.status in ("queued", "running"), f"job left the running path: {describe(job)}"
        for process in alive:
            process.check_running()
        if time.monotonic() > deadline:
            logs = "\n".join(process.tail() for process in alive)
            raise AssertionError(f"{what} not reached in {timeout} s: {describe(job)}\n{logs}")
        await asyncio.sleep(0.05)


def partly_parsed(job: Job) -> bool:
    return job.chunks_total > 0 and job.chunks_done >= job.chunks_total // 3


def completed(job: Job) -> bool:
    return job.status == "completed"


async def assert_unfinished(sessions: async_sessionmaker[AsyncSession], job_id: str) -> Job:
    job = await read_job(sessions, job_id)
    assert job.status == "running" and job.stage == "parsing", describe(job)
    assert 0 < job.chunks_done < job.chunks_total, describe(job)
    assert job.play_id is None and job.completed_at is None
    return job


async def chunk_attempts(client: Client, handle: WorkflowHandle[Any, Any]) -> list[int]:
    """The attempt each parse_chunk activity finished on, over every run of the job."""
    attempts: list[int] = []
    run_id: str | None = handle.result_run_id
    while run_id is not None:
        scheduled: set[int] = set()
        history = client.get_workflow_handle(handle.id, run_id=run_id)
        run_id = None
        async for event in history.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                attributes = event.activity_task_scheduled_event_attributes
                if attributes.activity_type.name == "parse_chunk":
                    scheduled.add(event.event_id)
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                started = event.activity_task_started_event_attributes
                if started.scheduled_event_id in scheduled:
                    attempts.append(started.attempt)
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                run_id = (
                    event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                )
    return attempts


async def assert_parsed_exactly_once(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    handle: WorkflowHandle[Any, Any],
    result: ParsePlayResult,
) -> None:
    """The saved play equals the in-process parse, and nothing was stored or scheduled twice."""
    job_id = handle.id
    async with sessions() as session:
        job = await repo.get_job(session, job_id=job_id)
        assert job is not None
        text = (
            await session.execute(select(Document.text).where(Document.id == job.document_id))
        ).scalar_one()
        planned = (
            await session.execute(
                select(func.count()).select_from(Chunk).where(Chunk.job_id == job_id)
            )
        ).scalar_one()
        indexes = list(
            (
                await session.execute(
                    select(ChunkResult.index)
                    .where(ChunkResult.job_id == job_id)
                    .order_by(ChunkResult.index)
                )
            ).scalars()
        )
        plays = (
            await session.execute(
                select(func.count()).select_from(Play).where(Play.job_id == job_id)
            )
        ).scalar_one()
        events = list(
            (
                await session.execute(select(JobEvent.kind).where(JobEvent.job_id == job_id))
            ).scalars()
        )
        play = await plays_repo.play_for_job(session, job_id=job_id)
        assert play is not None, "no play saved"
        playbook = await plays_repo.load_playbook(session, play=play)

    assert job.status == "completed" and job.completed_at is not None, describe(job)
    assert job.chunks_total > 300, "the job was meant to have several hundred chunks"
    assert job.chunks_done == job.chunks_total == planned == result.chunks, describe(job)
    assert indexes == list(range(job.chunks_total)), "one chunk_results row per chunk"
    assert plays == 1, f"{plays} plays saved for one job"
    assert job.play_id == play.id == result.play_id
    assert events.count("chunk") == job.chunks_total, "a chunk was recorded as new twice"
    assert events.count("completed") == 1
    assert text is not None
    assert playbook.export() == parse_text(text, CHUNK_SIZE).export()

    # Temporal's side: each chunk was scheduled once (no run started over from the beginning),
    # and at most the one chunk in flight at the crash needed a second attempt.
    attempts = await chunk_attempts(client, handle)
    assert len(attempts) == job.chunks_total, f"{len(attempts)} chunk activities scheduled"
    assert sum(attempt > 1 for attempt in attempts) <= 1, attempts
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED


async def test_a_job_survives_kill_9_of_its_worker(
    processes: Processes,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """SIGKILL the only worker mid-job; a new worker process finishes the same job.

    What happens: the dead worker says nothing to Temporal, and the job row simply stops moving.
    The kill lands just after a chunk was stored (that is when the poll sees the progress it
    waits for), typically while the next workflow task waits on the dead worker's sticky queue:
    after the 10 s sticky schedule-to-start timeout it moves to the shared task queue, where the
    new worker picks it up, replays the history and schedules the next chunk. Had the kill hit
    inside a chunk activity, that attempt would time out after the chunk heartbeat timeout (10 s)
    and run again on the new worker, reusing a result already stored. Either way the job goes
    on from the chunks already done, not from the start.
    """
    task_queue = f"crash-{uuid.uuid4().hex[:12]}"
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

    job = await create_job(
        sessions, CONTENT, filename="emilia-galotti-1-3.txt", chunk_size=CHUNK_SIZE
    )
    handle = await start_job(client, task_queue, job)
    await wait_for_job(
        sessions, job.id, partly_parsed, "a third of the chunks", timeout=30, alive=(server, first)
    )

    first.kill()
    assert first.process is not None and first.process.returncode == -9
    stopped = await assert_unfinished(sessions, job.id)
    # With no worker alive, nothing moves.
    await asyncio.sleep(1)
    still = await assert_unfinished(sessions, job.id)
    assert still.chunks_done == stopped.chunks_done, "a chunk finished with no worker running"
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    second = processes.worker(**settings)
    await second.start_polling()
    await wait_for_job(
        sessions, job.id, completed, "completion", timeout=60, alive=(server, second)
    )
    result = await asyncio.wait_for(handle.result(), timeout=15)
    assert isinstance(result, ParsePlayResult)
    await assert_parsed_exactly_once(sessions, client, handle, result)


async def test_a_job_survives_kill_9_of_the_temporal_server(
    processes: Processes,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """SIGKILL the Temporal dev server mid-job and start it again on the same db file and port.

    What happens: the worker process keeps running and needs no restart. Its SDK core retries
    its polls (and the completion of a chunk in flight) with backoff while the server is down,
    logging `gRPC call ... retried N times` warnings, and carries on once the server answers
    again; the test's own client reconnects the same way. The server restores the workflow from
    its SQLite file, so the job continues from the chunks already done. An operator therefore
    only restarts the server. While it is down at most the one chunk already in flight can be
    stored, since the workflow schedules chunks and nothing schedules them without Temporal.
    """
    task_queue = f"crash-{uuid.uuid4().hex[:12]}"
    port = free_port()
    server = processes.temporal(port)
    server.start()
    client = await server.wait_ready()
    worker = processes.worker(
        temporal_address=server.address, database_url=database_url, task_queue=task_queue
    )
    await worker.start_polling()
    worker_pid = worker.pid

    job = await create_job(
        sessions, CONTENT, filename="emilia-galotti-1-3.txt", chunk_size=CHUNK_SIZE
    )
    handle = await start_job(client, task_queue, job)
    await wait_for_job(
        sessions, job.id, partly_parsed, "a third of the chunks", timeout=30, alive=(server, worker)
    )

    server.kill()
    assert server.process is not None and server.process.returncode == -9
    stopped = await assert_unfinished(sessions, job.id)
    await asyncio.sleep(2)
    during = await assert_unfinished(sessions, job.id)
    assert during.chunks_done - stopped.chunks_done <= 1, "chunks went on without Temporal"
    worker.check_running()

    server.start()
    assert server.address.endswith(f":{port}")
    await server.wait_ready()
    try:
        description = await handle.describe()
    except RPCError as error:
        raise AssertionError(f"Temporal lost the job across its restart: {error}") from error
    assert description.status == WorkflowExecutionStatus.RUNNING
    await wait_for_job(
        sessions, job.id, completed, "completion", timeout=60, alive=(server, worker)
    )
    assert worker.pid == worker_pid, "the worker was restarted"
    worker.check_running()
    result = await asyncio.wait_for(handle.result(), timeout=15)
    assert isinstance(result, ParsePlayResult)
    await assert_parsed_exactly_once(sessions, client, handle, result)
