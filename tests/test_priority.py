"""Temporal's Priority orders the work: urgent jobs finish first when workers are scarce.

Jobs are submitted through the API while no worker runs, so their tasks wait in the queue; then
one worker with a single activity slot starts. Each slot goes to the most urgent task waiting
(the API maps priority 5 to Temporal's priority_key 1), so an urgent job gets every slot its
own tasks can use while the others share the rest. The order is measured from the jobs'
completed_at, never assumed. It is exact only with one task-queue partition, which the session
dev server gets from the project's DYNAMIC_CONFIG (see tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from playparse.config import Settings
from playparse.db import jobs as repo
from playparse.devstack import DYNAMIC_CONFIG
from playparse.llm.base import Providers
from tests.api.test_job_control import Instrumented
from tests.api.test_jobs_api import submit
from tests.conftest import Api
from tests.helpers import EXAMPLE

# The first act: 11 chunks of 2,500 characters, about 20 activities per job.
CONTENT = EXAMPLE.read_text(encoding="utf-8").split("Zweiter Aufzug")[0].encode()
LOW_JOBS = 4
CHUNK_DELAY_S = 0.05
# With priority the urgent job finishes in about 60% of the time the first other job needs.
MARGIN = 0.85


async def submit_jobs(api: Api, priorities: list[int]) -> list[str]:
    ids = []
    for number, priority in enumerate(priorities):
        response = await submit(api, CONTENT, f"act-1-{number}.txt", priority=priority)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


async def completion_times(
    sessions: async_sessionmaker[AsyncSession], ids: list[str], timeout: float = 45.0
) -> dict[str, datetime]:
    """Wait until every job completed; when each one did."""
    deadline = time.monotonic() + timeout
    while True:
        async with sessions() as session:
            jobs = [await repo.get_job(session, job_id=job_id) for job_id in ids]
        statuses = {job.id: job.status for job in jobs if job is not None}
        if all(status == "completed" for status in statuses.values()) and len(statuses) == len(ids):
            return {job.id: job.completed_at for job in jobs if job and job.completed_at}
        assert not {"failed", "cancelled"} & set(statuses.values()), statuses
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs not all completed in {timeout} s: {statuses}")
        await asyncio.sleep(0.1)


async def assert_queued(sessions: async_sessionmaker[AsyncSession], ids: list[str]) -> None:
    async with sessions() as session:
        for job_id in ids:
            job = await repo.get_job(session, job_id=job_id)
            assert job is not None and job.status == "queued", "a job ran with no worker"


async def priority_key(temporal: Client, job_id: str) -> int:
    description = await temporal.get_workflow_handle(job_id).describe()
    return int(description.raw_description.workflow_execution_info.priority.priority_key)


def one_slot_worker(
    temporal: Client, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> Worker:
    """One worker with a single activity slot; each chunk holds it for CHUNK_DELAY_S.

    The delay makes the slot the bottleneck: with instant chunks each job would be paced by
    its own round trips to Temporal and the queue would rarely hold a choice to make.
    """
    from worker import build_worker

    one_slot = settings.model_copy(update={"max_concurrent_activities": 1})
    provider = Instrumented(delay=CHUNK_DELAY_S)
    return build_worker(temporal, one_slot, sessions, Providers({"heuristic": provider}))


def seconds(since: datetime, times: dict[str, datetime]) -> dict[str, float]:
    return {job_id: (at - since).total_seconds() for job_id, at in times.items()}


def test_the_dev_server_runs_one_task_queue_partition() -> None:
    assert DYNAMIC_CONFIG["matching.numTaskqueueReadPartitions"] == "1"
    assert DYNAMIC_CONFIG["matching.numTaskqueueWritePartitions"] == "1"


def assert_first_by_a_margin(
    first: str, others: list[str], times: dict[str, float], names: dict[str, str]
) -> None:
    """`first` completed before every one of `others`, clearly, not by a scheduling fluke.

    Without priority the jobs share the slot and finish within a fraction of a second of each
    other, in no particular order; with it the urgent job needs well under MARGIN of the time.
    """
    ranked = ", ".join(f"{names[j]} {times[j]:.2f}s" for j in sorted(times, key=times.__getitem__))
    assert all(times[first] < times[other] for other in others), ranked
    assert times[first] < MARGIN * min(times[other] for other in others), ranked


async def test_an_urgent_job_submitted_last_completes_first(
    api: Api,
    temporal: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    low = await submit_jobs(api, [1] * LOW_JOBS)
    (high,) = await submit_jobs(api, [5])
    await assert_queued(sessions, [*low, high])
    # The API hands Temporal the mapped priority: 5 is priority_key 1, 1 is priority_key 5.
    assert await priority_key(temporal, high) == 1
    assert {await priority_key(temporal, job_id) for job_id in low} == {5}

    started = datetime.now(UTC)
    async with one_slot_worker(temporal, settings, sessions):
        times = seconds(started, await completion_times(sessions, [*low, high]))
    names = {high: "high", **{job_id: f"low{n}" for n, job_id in enumerate(low)}}
    assert_first_by_a_margin(high, low, times, names)


async def keys_after_the_raise(temporal: Client, job_id: str) -> list[tuple[str, int]]:
    """(activity, priority_key) of each activity the job scheduled after its priority changed."""
    keys: list[tuple[str, int]] = []
    accepted = False
    async for event in temporal.get_workflow_handle(job_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            accepted = True
        elif accepted and event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            keys.append((scheduled.activity_type.name, scheduled.priority.priority_key))
    assert accepted, "the priority update never reached the workflow"
    return keys


async def wait_until_running(
    sessions: async_sessionmaker[AsyncSession], job_id: str, timeout: float = 10.0
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        async with sessions() as session:
            job = await repo.get_job(session, job_id=job_id)
        assert job is not None
        if job.status == "running":
            return
        assert time.monotonic() < deadline, f"job {job_id} still {job.status} after {timeout} s"
        await asyncio.sleep(0.02)


async def test_raising_a_low_job_to_5_makes_it_complete_before_the_other_low_ones(
    api: Api,
    temporal: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    low = await submit_jobs(api, [1] * LOW_JOBS)
    (high,) = await submit_jobs(api, [5])
    await assert_queued(sessions, [*low, high])
    # The last one submitted: left alone, it would be served last of the low ones.
    raised, others = low[-1], low[:-1]

    started = datetime.now(UTC)
    async with one_slot_worker(temporal, settings, sessions):
        await wait_until_running(sessions, raised)
        patched = await api.http.patch(f"/api/jobs/{raised}", json={"priority": 5})
        assert patched.status_code == 202, patched.text
        assert patched.json()["priority"] == 5
        times = seconds(started, await completion_times(sessions, [*low, high]))
    names = {high: "high", raised: "raised", **{j: f"low{n}" for n, j in enumerate(others)}}
    assert_first_by_a_margin(raised, others, times, names)
    keys = await keys_after_the_raise(temporal, raised)
    assert keys and {key for _, key in keys} == {1}, keys


async def test_a_priority_raised_before_any_worker_took_the_job_applies_to_its_work(
    api: Api,
    temporal: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    (job_id,) = await submit_jobs(api, [1])
    # No worker yet: the update waits at the server (the API gives it 5 s) and reaches the
    # workflow together with its start, in the first task of the worker started meanwhile.
    patching = asyncio.create_task(api.http.patch(f"/api/jobs/{job_id}", json={"priority": 5}))
    await asyncio.sleep(0.5)
    async with one_slot_worker(temporal, settings, sessions):
        patched = await patching
        assert patched.status_code == 202, patched.text
        assert patched.json()["priority"] == 5
        await completion_times(sessions, [job_id])
    keys = await keys_after_the_raise(temporal, job_id)
    assert keys and {key for _, key in keys} == {1}, keys
