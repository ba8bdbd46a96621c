"""The job record follows Temporal when Temporal acts without our code (terminate, reset)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.worker import Worker

from playparse.assemble import parse_text
from playparse.db import jobs as jobs_repo
from playparse.db.models import Job, utcnow
from playparse.jobs import JobError, JobStatus
from playparse.llm.base import ProviderError
from playparse.reconcile import reconcile_once
from tests.api.test_job_control import (  # noqa: F401  (fixtures)
    TEXT,
    Instrumented,
    provider,
    submit,
    wait_for,
    wait_until_final,
    worker,
)
from tests.conftest import Api
from tests.helpers import EXAMPLE


async def test_a_job_terminated_in_temporal_shows_failed_and_can_be_retried(
    api: Api,
    worker: Worker,
    provider: Instrumented,
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    provider.delay = 0.1
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    await wait_for(api, job["id"], lambda j: j["chunks_done"] >= 2)
    await temporal.get_workflow_handle(job["id"]).terminate(reason="stopped by an operator")

    assert (await wait_for(api, job["id"], lambda j: True))["status"] == "running"
    corrections = await reconcile_once(temporal, sessions, stale_after=timedelta(0))
    assert [(c.job_id, c.now) for c in corrections if c.job_id == job["id"]] == [
        (job["id"], "failed")
    ]
    failed = (await api.http.get(f"/api/jobs/{job['id']}")).json()
    assert failed["status"] == "failed"
    assert failed["error"]["message"] == "terminated in Temporal"
    assert failed["allowed_actions"] == ["retry"]
    # A second round finds nothing more to do.
    again = await reconcile_once(temporal, sessions, stale_after=timedelta(0))
    assert job["id"] not in {c.job_id for c in again}

    provider.delay = 0
    assert (await api.http.post(f"/api/jobs/{job['id']}/retry")).status_code == 202
    done = await wait_until_final(api, job["id"])
    assert done["status"] == "completed"
    assert (await api.http.get(f"/api/jobs/{job['id']}/result")).json() == parse_text(
        TEXT, 2500
    ).export()


async def test_a_failed_job_reset_in_temporal_runs_again_and_completes(
    api: Api,
    worker: Worker,
    provider: Instrumented,
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    provider.failures[3] = [ProviderError("refused", retryable=False)]
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    assert (await wait_until_final(api, job["id"]))["status"] == "failed"

    handle = temporal.get_workflow_handle(job["id"])
    history = await handle.fetch_history()
    first_task = next(
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    )
    await temporal.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=temporal.namespace,
            workflow_execution=WorkflowExecution(workflow_id=job["id"]),
            reason="try again from the start",
            workflow_task_finish_event_id=first_task,
            request_id=str(uuid.uuid4()),
        )
    )
    await handle.result()  # the reset run completes in Temporal
    assert (await api.http.get(f"/api/jobs/{job['id']}")).json()["status"] == "failed"

    corrections = await reconcile_once(temporal, sessions, stale_after=timedelta(0))
    assert (job["id"], "completed") in [(c.job_id, c.now) for c in corrections]
    done: dict[str, Any] = (await api.http.get(f"/api/jobs/{job['id']}")).json()
    assert done["status"] == "completed" and done["error"] is None
    events = (await api.http.get(f"/api/jobs/{job['id']}/events")).json()["data"]
    assert "reset" in [e["kind"] for e in events]
    assert (await api.http.get(f"/api/jobs/{job['id']}/result")).status_code == 200


async def test_a_job_that_just_ended_is_not_taken_for_one_that_runs_again(
    api: Api,
    worker: Worker,
    provider: Instrumented,
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Between recording its end and closing, a workflow still runs (and is listed so)."""
    provider.delay = 30.0
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    await wait_for(api, job["id"], lambda j: j["status"] == "running")
    async with sessions.begin() as session:
        await jobs_repo.record_state(
            session,
            job_id=job["id"],
            status=JobStatus.FAILED,
            event="failed",
            error=JobError("ProviderFailed", "refused", False),
        )
    try:
        corrections = await reconcile_once(temporal, sessions)
        assert job["id"] not in [c.job_id for c in corrections]
        shown = (await api.http.get(f"/api/jobs/{job['id']}")).json()
        assert shown["status"] == "failed" and shown["error"]["message"] == "refused"
    finally:
        await temporal.get_workflow_handle(job["id"]).terminate()


async def test_a_job_without_progress_is_marked_stalled_once(
    api: Api,
    worker: Worker,
    provider: Instrumented,
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    provider.delay = 30.0
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    await wait_for(api, job["id"], lambda j: j["status"] == "running" and provider.started)
    async with sessions.begin() as session:
        await session.execute(
            update(Job).where(Job.id == job["id"]).values(updated_at=utcnow() - timedelta(hours=1))
        )
    first = await reconcile_once(temporal, sessions)
    second = await reconcile_once(temporal, sessions)
    assert (job["id"], "stalled") in [(c.job_id, c.reason) for c in first]
    assert job["id"] not in {c.job_id for c in second}
    events = (await api.http.get(f"/api/jobs/{job['id']}/events")).json()["data"]
    assert [e["kind"] for e in events].count("stalled") == 1
    # The database is shared with other tests' jobs, which may be stalled too.
    assert job["id"] in (await api.http.get("/api/health")).json()["checks"]["stalled"]["jobs"]
    assert (await api.http.post(f"/api/jobs/{job['id']}/cancel")).status_code == 202
