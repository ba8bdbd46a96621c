"""Steering jobs through the REST API: pause, resume, cancel, retry, priority, retrying.

The worker runs the real workflow and activities; its `heuristic` provider is wrapped so the
tests can slow it down, make it fail on purpose and count every call per chunk.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from playparse import heuristic
from playparse.assemble import parse_text
from playparse.config import Settings
from playparse.db import chunks as chunks_repo
from playparse.db import jobs as jobs_repo
from playparse.db import plays as plays_repo
from playparse.db.models import ChunkResult, Play
from playparse.jobs import JobError, JobStatus
from playparse.llm.base import ProviderError, ProviderResult, Providers
from playparse.schema import ChunkContext
from tests.api.test_jobs_api import PROBLEM, submit, wait_until_final
from tests.conftest import Api, free_port, served
from tests.helpers import EXAMPLE, create_job
from tests.processes import Processes
from workflows import policies

TEXT = EXAMPLE.read_text(encoding="utf-8")


@dataclass
class Instrumented:
    """The heuristic parser, slowed down and made to fail on request, counting every call."""

    name: str = "heuristic"
    delay: float = 0.0
    calls: Counter[int] = field(default_factory=Counter)
    started: list[tuple[int, float]] = field(default_factory=list)
    cancelled: list[tuple[int, float]] = field(default_factory=list)
    # chunk index -> errors to raise, one per attempt, before parsing succeeds
    failures: dict[int, list[ProviderError]] = field(default_factory=dict)

    async def parse_chunk(
        self, text: str, context: ChunkContext, *, model: str | None
    ) -> ProviderResult:
        self.calls[context.index] += 1
        self.started.append((context.index, time.monotonic()))
        planned = self.failures.get(context.index)
        if planned:
            raise planned.pop(0)
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled.append((context.index, time.monotonic()))
            raise
        return ProviderResult(parse=heuristic.parse_chunk(text, context))


@pytest.fixture
def provider() -> Instrumented:
    return Instrumented()


@pytest_asyncio.fixture
async def worker(
    temporal: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    provider: Instrumented,
) -> AsyncIterator[Worker]:
    from worker import build_worker

    worker = build_worker(temporal, settings, sessions, Providers({"heuristic": provider}))
    async with worker:
        yield worker


async def job_of(api: Api, job_id: str) -> dict[str, Any]:
    response = await api.http.get(f"/api/jobs/{job_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def wait_for(api: Api, job_id: str, check: Any, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = await job_of(api, job_id)
        if check(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} never satisfied the check; last: {job}")
        await asyncio.sleep(0.05)


async def stored_results(sessions: async_sessionmaker[AsyncSession], job_id: str) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(ChunkResult).where(ChunkResult.job_id == job_id)
        )
    return int(count or 0)


async def test_pause_stops_new_chunks_and_resume_finishes_the_same_play(
    api: Api, worker: Worker, provider: Instrumented
) -> None:
    provider.delay = 0.05
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    await wait_for(api, job["id"], lambda j: j["chunks_done"] >= 3)

    paused = await api.http.post(f"/api/jobs/{job['id']}/pause")
    assert paused.status_code == 202
    started_at_ack = len(provider.started)
    settled = await wait_for(api, job["id"], lambda j: j["status"] == "paused", timeout=10)
    assert settled["allowed_actions"] == ["resume", "cancel"]
    assert settled["eta_seconds"] is None
    started_when_paused = len(provider.started)
    # Chunks the workflow scheduled before it took the pause may still start after the
    # acknowledgement; there are never more of them than the job's window.
    assert started_when_paused - started_at_ack <= job["concurrency"]
    await asyncio.sleep(1.0)
    # Once the job shows paused, its running chunks have finished and no other starts.
    assert len(provider.started) == started_when_paused
    assert (await job_of(api, job["id"]))["chunks_done"] == settled["chunks_done"]
    assert settled["chunks_done"] < settled["chunks_total"]

    again = await api.http.post(f"/api/jobs/{job['id']}/pause")
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["job_status"] == "paused"
    assert again.json()["allowed_actions"] == ["resume", "cancel"]

    assert (await api.http.post(f"/api/jobs/{job['id']}/resume")).status_code == 202
    done = await wait_until_final(api, job["id"])
    assert done["status"] == "completed"
    assert set(provider.calls.values()) == {1}, "every chunk is parsed exactly once"
    result = (await api.http.get(f"/api/jobs/{job['id']}/result")).json()
    assert result == parse_text(TEXT, 2500).export()
    kinds = [
        e["kind"] for e in (await api.http.get(f"/api/jobs/{job['id']}/events")).json()["data"]
    ]
    assert kinds.index("paused") < kinds.index("resumed") < kinds.index("completed")


async def test_progress_shows_counts_and_an_estimate_while_running(
    api: Api, worker: Worker, provider: Instrumented
) -> None:
    provider.delay = 0.05
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    running = await wait_for(api, job["id"], lambda j: j["chunks_done"] >= 5)
    assert running["status"] == "running" and running["stage"] == "parsing"
    assert running["lines_found"] > 0 and running["characters_found"] >= 2
    assert 0 < running["progress"] < 100
    assert running["eta_seconds"] is not None and running["eta_seconds"] > 0
    done = await wait_until_final(api, job["id"])
    assert done["progress"] == 100 and done["eta_seconds"] is None
    assert done["characters_found"] >= 10


async def test_resume_of_a_running_job_and_any_action_on_a_completed_job_are_409(
    api: Api, worker: Worker, provider: Instrumented
) -> None:
    provider.delay = 0.05
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    await wait_for(api, job["id"], lambda j: j["status"] == "running")
    refused = await api.http.post(f"/api/jobs/{job['id']}/resume")
    assert refused.status_code == 409
    assert refused.json()["job_status"] == "running"
    assert refused.json()["allowed_actions"] == ["pause", "cancel"]
    assert (await api.http.post(f"/api/jobs/{job['id']}/retry")).status_code == 409

    provider.delay = 0
    assert (await wait_until_final(api, job["id"]))["status"] == "completed"
    for action in ("pause", "resume", "cancel", "retry"):
        response = await api.http.post(f"/api/jobs/{job['id']}/{action}")
        assert response.status_code == 409, action
        assert response.json()["job_status"] == "completed"
        assert response.json()["allowed_actions"] == []
    patched = await api.http.patch(f"/api/jobs/{job['id']}", json={"priority": 5})
    assert patched.status_code == 409
    assert (await api.http.post("/api/jobs/job_unknown/pause")).status_code == 404


async def test_cancel_abandons_the_running_chunk_and_keeps_what_was_parsed(
    api: Api, worker: Worker, provider: Instrumented, sessions: async_sessionmaker[AsyncSession]
) -> None:
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    await wait_for(api, job["id"], lambda j: j["chunks_done"] >= 4)
    provider.delay = 30.0
    await wait_for(api, job["id"], lambda j: len(provider.started) > j["chunks_done"])

    asked = time.monotonic()
    response = await api.http.post(f"/api/jobs/{job['id']}/cancel")
    assert response.status_code == 202
    final = await wait_for(api, job["id"], lambda j: j["status"] == "cancelled", timeout=5)
    assert provider.cancelled, "the in-flight provider call was abandoned"
    assert provider.cancelled[-1][1] - asked < 2.0
    assert final["allowed_actions"] == ["retry"]

    kept = await stored_results(sessions, job["id"])
    await asyncio.sleep(1.0)
    assert await stored_results(sessions, job["id"]) == kept == final["chunks_done"]
    partial = await api.http.get(f"/api/jobs/{job['id']}/result", params={"partial": "true"})
    assert partial.status_code == 200
    assert partial.headers["x-chunks-done"] == str(kept)
    lines = [i for a in partial.json()["acts"] for s in a["scenes"] for i in s["items"]]
    assert lines and lines[0]["type"] == "direction"
    assert (await api.http.get(f"/api/jobs/{job['id']}/result")).status_code == 409
    events = (await api.http.get(f"/api/jobs/{job['id']}/events")).json()["data"]
    assert events[-1]["kind"] == "cancelled"


async def test_a_cancel_while_the_play_is_saved_ends_the_job_with_its_play(
    api: Api,
    worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    save = plays_repo.save_playbook

    async def slow_save(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(2.0)
        return await save(*args, **kwargs)

    monkeypatch.setattr(plays_repo, "save_playbook", slow_save)
    job = (await submit(api, TEXT.encode())).json()
    await wait_for(api, job["id"], lambda j: j["stage"] == "saving", timeout=30)
    assert (await api.http.post(f"/api/jobs/{job['id']}/cancel")).status_code == 202
    final = await wait_until_final(api, job["id"])
    async with sessions() as session:
        play = await session.scalar(select(Play.id).where(Play.job_id == job["id"]))
    # The save had begun, so the job completes with its play; the play is never left behind
    # a cancelled job.
    assert final["status"] == "completed"
    assert play is not None and final["play_id"] == play


@pytest.mark.parametrize(
    ("outcome", "closed"),
    [
        (JobStatus.COMPLETED, WorkflowExecutionStatus.COMPLETED),
        (JobStatus.FAILED, WorkflowExecutionStatus.FAILED),
    ],
)
async def test_a_cancel_while_the_end_is_recorded_comes_too_late(
    api: Api,
    worker: Worker,
    provider: Instrumented,
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    outcome: JobStatus,
    closed: WorkflowExecutionStatus,
) -> None:
    record = jobs_repo.record_state
    recording = asyncio.Event()

    async def slow_end(session: AsyncSession, **kwargs: Any) -> Any:
        if kwargs.get("status") == outcome:
            recording.set()
            await asyncio.sleep(1.5)
        return await record(session, **kwargs)

    monkeypatch.setattr(jobs_repo, "record_state", slow_end)
    if outcome == JobStatus.FAILED:
        provider.failures[2] = [ProviderError("the model refused the request", retryable=False)]
    job = (await submit(api, TEXT.encode())).json()
    await asyncio.wait_for(recording.wait(), timeout=30)
    # The outcome is decided but not yet recorded, so the API still accepts a cancel.
    assert (await api.http.post(f"/api/jobs/{job['id']}/cancel")).status_code == 202
    final = await wait_until_final(api, job["id"])
    # The row is final once the end is recorded; the workflow closes a moment later.
    deadline = time.monotonic() + 30
    while True:
        description = await temporal.get_workflow_handle(job["id"]).describe()
        if description.status != WorkflowExecutionStatus.RUNNING or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    async with sessions() as session:
        play = await session.scalar(select(Play.id).where(Play.job_id == job["id"]))
    # The job row and the workflow agree on the outcome, and a play exists only if it completed.
    assert final["status"] == outcome.value
    assert description.status == closed
    if outcome == JobStatus.COMPLETED:
        assert play is not None and final["play_id"] == play
    else:
        assert play is None and final["error"]["chunk"] == 2


async def test_a_parsed_chunk_whose_store_fails_is_stored_again_not_parsed_again(
    api: Api, worker: Worker, provider: Instrumented, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = chunks_repo.store_finished
    failed: list[int] = []

    async def flaky_store(session: AsyncSession, finished: Any) -> Any:
        # Every fourth batch's transaction fails once, as a database that was briefly away.
        if len(failed) < 3 and sum(provider.calls.values()) % 4 == 1:
            failed.append(finished[0].row["index"])
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return await store(session, finished)

    monkeypatch.setattr(chunks_repo, "store_finished", flaky_store)
    job = (await submit(api, TEXT.encode())).json()
    done = await wait_until_final(api, job["id"])
    assert done["status"] == "completed"
    assert failed, "no store failed"
    # Each chunk went to the provider once, those whose first store failed included.
    assert set(provider.calls.values()) == {1}
    assert len(provider.calls) == done["chunks_total"] == done["chunks_done"]


async def test_a_retryable_failure_shows_retrying_then_recovers(
    api: Api, worker: Worker, provider: Instrumented
) -> None:
    provider.failures[2] = [
        ProviderError("provider overloaded", retryable=True, retry_after=1.0, type="Overloaded"),
        ProviderError("provider overloaded", retryable=True, retry_after=1.0, type="Overloaded"),
    ]
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    retrying = await wait_for(api, job["id"], lambda j: j["status"] == "retrying")
    assert retrying["attempt"] in (1, 2)
    assert retrying["error"]["retryable"] is True
    assert retrying["error"]["chunk"] == 2
    assert "chunk 2: provider overloaded" in retrying["error"]["message"]
    assert retrying["allowed_actions"] == ["pause", "cancel"]

    done = await wait_until_final(api, job["id"])
    assert done["status"] == "completed" and done["error"] is None and done["attempt"] is None
    assert provider.calls[2] == 3
    kinds = [
        e["kind"] for e in (await api.http.get(f"/api/jobs/{job['id']}/events")).json()["data"]
    ]
    assert kinds.count("retrying") == 2 and kinds.count("recovered") == 1


async def test_exhausted_retries_fail_the_job_naming_the_chunk(
    api: Api, worker: Worker, provider: Instrumented
) -> None:
    attempts = policies.CHUNK_RETRY.maximum_attempts
    provider.failures[1] = [
        ProviderError("connection dropped", retryable=True, retry_after=0.05)
        for _ in range(attempts + 1)
    ]
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    failed = await wait_until_final(api, job["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["chunk"] == 1
    assert failed["error"]["message"] == "chunk 1: connection dropped"
    # The fault itself was transient: retrying the job later may well succeed.
    assert failed["error"]["retryable"] is True
    assert provider.calls[1] == attempts


async def test_retry_runs_the_job_again_reusing_every_finished_chunk(
    api: Api, worker: Worker, provider: Instrumented
) -> None:
    provider.failures[5] = [ProviderError("the model refused the request", retryable=False)]
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    failed = await wait_until_final(api, job["id"])
    assert failed["status"] == "failed" and failed["error"]["chunk"] == 5
    assert "the model refused the request" in failed["error"]["message"]

    dead_letters = (await api.http.get("/api/jobs", params={"status": "failed"})).json()["data"]
    listed = {j["id"]: j for j in dead_letters}
    assert listed[job["id"]]["error"]["message"] == failed["error"]["message"]

    retried = await api.http.post(f"/api/jobs/{job['id']}/retry")
    assert retried.status_code == 202
    assert retried.json()["status"] == "queued" and retried.json()["error"] is None
    done = await wait_until_final(api, job["id"])
    assert done["status"] == "completed"
    assert [provider.calls[i] for i in range(5)] == [1, 1, 1, 1, 1]
    assert provider.calls[5] == 2
    assert set(provider.calls.values()) <= {1, 2}
    result = (await api.http.get(f"/api/jobs/{job['id']}/result")).json()
    assert result == parse_text(TEXT, 2500).export()
    assert (await api.http.post(f"/api/jobs/{job['id']}/retry")).status_code == 409


async def test_the_cancelled_event_counts_a_chunk_that_finished_during_the_cancel(
    api: Api, worker: Worker, provider: Instrumented
) -> None:
    # A chunk of 0.5 s sends no heartbeat (the first is due after 1 s), so the cancel cannot
    # reach it: it finishes, is stored, and the job ends cancelled with it done.
    provider.delay = 0.5
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name, concurrency=1)).json()
    await wait_for(api, job["id"], lambda j: j["chunks_done"] >= 2)
    started = len(provider.started)
    assert (await api.http.post(f"/api/jobs/{job['id']}/cancel")).status_code == 202
    cancelled = await wait_for(api, job["id"], lambda j: j["status"] == "cancelled", timeout=5)

    assert not provider.cancelled
    assert cancelled["chunks_done"] == len(provider.started) >= started
    events = (await api.http.get(f"/api/jobs/{job['id']}/events")).json()["data"]
    [event] = [e for e in events if e["kind"] == "cancelled"]
    assert event["detail"]["chunks_done"] == cancelled["chunks_done"]


async def test_a_cancelled_job_can_be_retried_and_completes(
    api: Api, worker: Worker, provider: Instrumented
) -> None:
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    await wait_for(api, job["id"], lambda j: j["chunks_done"] >= 3)
    provider.delay = 30.0
    assert (await api.http.post(f"/api/jobs/{job['id']}/cancel")).status_code == 202
    cancelled = await wait_for(api, job["id"], lambda j: j["status"] == "cancelled", timeout=5)
    provider.delay = 0
    calls_before = sum(provider.calls.values())
    assert (await api.http.post(f"/api/jobs/{job['id']}/retry")).status_code == 202
    done = await wait_until_final(api, job["id"])
    assert done["status"] == "completed"
    # Only the chunks not finished before the cancel are parsed in the new run.
    assert (
        sum(provider.calls.values()) - calls_before
        == done["chunks_total"] - cancelled["chunks_done"]
    )


async def test_a_retry_that_temporal_does_not_answer_leaves_the_job_as_it_was(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    from api.app import create_app

    job = await create_job(sessions, b"ANNA.\nHi.\n")
    async with sessions.begin() as session:
        await jobs_repo.record_state(
            session,
            job_id=job.id,
            status=JobStatus.FAILED,
            event="failed",
            error=JobError("ProviderFailed", "the provider was down", True),
        )
    # The API's client connected to a dev server that has gone away since.
    processes = Processes(tmp_path)
    try:
        server = processes.temporal(free_port())
        server.start()
        gone = await server.wait_ready()
    finally:
        processes.kill_all()
    async with served(create_app(settings, temporal=gone, sessions=sessions)) as api:
        refused = await api.http.post(f"/api/jobs/{job.id}/retry")
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == PROBLEM
        shown = (await api.http.get(f"/api/jobs/{job.id}")).json()
    assert shown["status"] == "failed"
    assert "retry" in shown["allowed_actions"]


async def test_priority_is_validated_and_a_change_is_applied_and_shown(
    api: Api, worker: Worker, provider: Instrumented, temporal: Client
) -> None:
    provider.delay = 0.05
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name, priority=2)).json()
    await wait_for(api, job["id"], lambda j: j["status"] == "running")
    assert (await api.http.patch(f"/api/jobs/{job['id']}", json={"priority": 9})).status_code == 422
    assert (await api.http.patch(f"/api/jobs/{job['id']}", json={"colour": 1})).status_code == 422
    patched = await api.http.patch(f"/api/jobs/{job['id']}", json={"priority": 5})
    assert patched.status_code == 202 and patched.json()["priority"] == 5
    found = [
        wf.id
        async for wf in temporal.list_workflows(f"WorkflowId = '{job['id']}' AND Priority = 5")
    ]
    assert found == [job["id"]]
    events = (await api.http.get(f"/api/jobs/{job['id']}/events")).json()["data"]
    assert {"kind": "priority", "priority": 5} in [
        {"kind": e["kind"], **e["detail"]} for e in events if e["kind"] == "priority"
    ]
    provider.delay = 0
    assert (await wait_until_final(api, job["id"]))["status"] == "completed"


async def test_a_cancel_sent_while_a_retry_starts_its_run_cancels_the_new_run(
    api: Api, worker: Worker, provider: Instrumented, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Between the retry's write (queued) and its new run, the latest run is the closed one,
    # which takes a cancel without complaint: the cancel must wait for the new run instead.
    from api.routes import control

    async def slow_start(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.5)
        await start(*args, **kwargs)

    start = control.start_workflow
    monkeypatch.setattr(control, "start_workflow", slow_start)
    provider.delay = 0.3
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name, concurrency=1)).json()
    await wait_for(api, job["id"], lambda j: j["chunks_done"] >= 1)
    assert (await api.http.post(f"/api/jobs/{job['id']}/cancel")).status_code == 202
    await wait_for(api, job["id"], lambda j: j["status"] == "cancelled")

    retry = asyncio.create_task(api.http.post(f"/api/jobs/{job['id']}/retry"))
    await wait_for(api, job["id"], lambda j: j["status"] == "queued")
    cancel = await api.http.post(f"/api/jobs/{job['id']}/cancel")
    assert (await retry).status_code == 202
    assert cancel.status_code == 202, cancel.text

    done = await wait_until_final(api, job["id"])
    assert done["status"] == "cancelled"
    assert done["chunks_done"] < done["chunks_total"]


async def test_a_cancel_of_a_job_whose_workflow_was_terminated_is_refused_not_lost(
    api: Api, worker: Worker, provider: Instrumented, temporal: Client
) -> None:
    provider.delay = 0.3
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name, concurrency=1)).json()
    await wait_for(api, job["id"], lambda j: j["chunks_done"] >= 1)
    await temporal.get_workflow_handle(job["id"]).terminate("from the Temporal UI")

    for action in ("cancel", "pause", "resume"):
        refused = await api.http.post(f"/api/jobs/{job['id']}/{action}")
        assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
        body = refused.json()
        assert "no longer running in Temporal" in body["detail"], (action, body)
        # None is offered: before, a 409 refused a pause while offering it.
        assert body["allowed_actions"] == []
    patched = await api.http.patch(f"/api/jobs/{job['id']}", json={"priority": 5})
    assert patched.status_code == 409 and patched.json()["allowed_actions"] == []


async def test_pausing_a_job_that_is_pausing_again_is_accepted(
    api: Api, worker: Worker, provider: Instrumented
) -> None:
    provider.delay = 1.0
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name, concurrency=2)).json()
    await wait_for(api, job["id"], lambda j: len(provider.started) >= 2)
    assert (await api.http.post(f"/api/jobs/{job['id']}/pause")).status_code == 202
    # The chunks in flight still run, and the job shows it with pause among its actions.
    again = await api.http.post(f"/api/jobs/{job['id']}/pause")
    assert again.status_code == 202, again.text
    assert "pause" in again.json()["allowed_actions"] or again.json()["status"] == "paused"
    paused = await wait_for(api, job["id"], lambda j: j["status"] == "paused")
    assert paused["allowed_actions"] == ["resume", "cancel"]
    refused = await api.http.post(f"/api/jobs/{job['id']}/pause")
    assert refused.status_code == 409


async def test_a_change_no_worker_takes_in_time_is_accepted_and_applied_when_one_returns(
    api: Api,
    temporal: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    provider: Instrumented,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import timedelta

    from api.routes import control
    from worker import build_worker

    monkeypatch.setattr(control, "UPDATE_TIMEOUT", timedelta(seconds=0.5))
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    # No worker runs: the job is queued, and nothing can decide these yet.
    patched = await api.http.patch(f"/api/jobs/{job['id']}", json={"priority": 5})
    assert patched.status_code == 202, patched.text
    paused = await api.http.post(f"/api/jobs/{job['id']}/pause")
    assert paused.status_code == 202, paused.text
    resumed = await api.http.post(f"/api/jobs/{job['id']}/resume")
    assert resumed.status_code == 202, resumed.text

    async with build_worker(temporal, settings, sessions, Providers({"heuristic": provider})):
        done = await wait_until_final(api, job["id"])
    assert done["status"] == "completed" and done["priority"] == 5
    kinds = [
        e["kind"] for e in (await api.http.get(f"/api/jobs/{job['id']}/events")).json()["data"]
    ]
    assert "priority" in kinds
