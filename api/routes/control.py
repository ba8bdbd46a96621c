"""Steering a job: pause, resume, cancel, retry and priority.

Pause, resume and priority go to the workflow as updates: their validators decide against the
workflow's own state, so the check and the act cannot race. An update that no worker takes in
time stays with the workflow and is decided when a worker returns, so the answer is then 202
(accepted, not yet decided), never a refusal of something that will happen; pause and resume
also leave a signal, which Temporal keeps durably. Cancel is Temporal's cancellation request,
sent to the run that is open (the new one, when a retry is starting it). Retry moves a failed
or cancelled job back to `queued` in one guarded write, then starts a new run of the same
workflow id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.problems import Problem
from api.routes.jobs import JOB_NOT_FOUND, Responses, accepted, load_job, start_workflow
from api.schemas import JobPublic
from playparse.db import jobs as jobs_repo
from playparse.db.models import Job
from playparse.jobs import JobAction, JobStatus, allowed_actions
from workflows.parse_play import ParsePlayWorkflow

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

# How long an update waits for a worker to take it; a job whose workers are all down is
# steered through a signal instead, which the workflow reads when a worker returns.
UPDATE_TIMEOUT = timedelta(seconds=5)
# How long a cancel waits for the job to show `cancelled` before answering.
CANCEL_SETTLE_S = 2.0
# How long a retry waits for the previous run to close.
PREVIOUS_RUN_CLOSE_S = 10.0
# How long a cancel of a job being retried waits for the new run to start.
NEXT_RUN_START_S = PREVIOUS_RUN_CLOSE_S + 5.0

_STEERING: Responses = {
    **JOB_NOT_FOUND,
    409: {"description": "The job's state does not allow the action (action-not-allowed)"},
    503: {"description": "Temporal did not answer (temporal-unavailable)"},
}
# An update the workflow refused for a reason other than the job's state.
_UPDATE_REFUSED: Responses = {
    422: {"description": "The workflow refused the change (validation-error)"}
}


class JobPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: int = Field(ge=1, le=5, description="1 (least urgent) to 5 (most urgent)")


def conflict(status: str, detail: str, allowed: list[str] | None = None) -> Problem:
    if allowed is None:
        allowed = allowed_actions(JobStatus(status))
    return Problem(409, "action-not-allowed", detail, job_status=status, allowed_actions=allowed)


async def _fresh(session: SessionDep, tenant: str, job_id: str) -> Job:
    session.expire_all()
    return await load_job(session, tenant, job_id)


async def _update(
    handle: WorkflowHandle[Any, Any], call: Callable[[], Awaitable[object]], job: Job
) -> bool:
    """Run a workflow update; False when no worker took it in time. 409 when refused."""
    try:
        await call()
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type == "JobStateError":
            info = cause.details[0] if cause.details else {}
            raise conflict(
                info.get("status", job.status), cause.message, info.get("allowed_actions")
            ) from error
        raise Problem(422, "validation-error", str(cause or error)) from error
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        return False
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise _closed_in_temporal(job) from error
        raise Problem(503, "temporal-unavailable", "Temporal did not answer") from error
    return True


def _closed_in_temporal(job: Job) -> Problem:
    """The workflow has closed while the job row still shows the job open (or it has ended)."""
    if JobStatus(job.status).is_final:
        return conflict(job.status, f"the job is {job.status}")
    # Terminated from Temporal's UI, say: no action can reach it until the reconciler has
    # recorded how it ended, so none is offered.
    return conflict(
        job.status,
        "the job's workflow is no longer running in Temporal; its state is being brought up "
        "to date",
        allowed=[],
    )


def _require_open(job: Job, action: JobAction) -> None:
    status = JobStatus(job.status)
    if status.is_final:
        raise conflict(job.status, f"cannot {action.value} a job that is {job.status}")


@router.post(
    "/{job_id}/pause",
    status_code=202,
    response_model=JobPublic,
    responses={**_STEERING, **_UPDATE_REFUSED},
)
async def pause_job(
    job_id: str, session: SessionDep, temporal: TemporalDep, tenant: TenantDep
) -> JSONResponse:
    """Stop starting chunks; running chunks finish and are kept, then the job is `paused`."""
    return await _pause_or_resume(session, temporal, tenant, job_id, JobAction.PAUSE)


@router.post(
    "/{job_id}/resume",
    status_code=202,
    response_model=JobPublic,
    responses={**_STEERING, **_UPDATE_REFUSED},
)
async def resume_job(
    job_id: str, session: SessionDep, temporal: TemporalDep, tenant: TenantDep
) -> JSONResponse:
    """Carry on with the next chunk."""
    return await _pause_or_resume(session, temporal, tenant, job_id, JobAction.RESUME)


async def _pause_or_resume(
    session: SessionDep, temporal: Client, tenant: str, job_id: str, action: JobAction
) -> JSONResponse:
    job = await load_job(session, tenant, job_id)
    _require_open(job, action)
    handle = temporal.get_workflow_handle(job.id)
    update = (
        ParsePlayWorkflow.pause_job if action == JobAction.PAUSE else ParsePlayWorkflow.resume_job
    )
    taken = await _update(
        handle, lambda: handle.execute_update(update, rpc_timeout=UPDATE_TIMEOUT), job
    )
    if not taken:
        # No worker decided: the update waits for one, and the signal keeps the request
        # durably. The job row cannot decide instead: it does not show a pause or resume
        # still waiting to be read, so refusing by it could refuse what will happen.
        try:
            await handle.signal(
                ParsePlayWorkflow.pause if action == JobAction.PAUSE else ParsePlayWorkflow.resume
            )
        except RPCError as error:
            raise Problem(503, "temporal-unavailable", "Temporal did not answer") from error
    return accepted(await _fresh(session, tenant, job_id))


@router.post("/{job_id}/cancel", status_code=202, response_model=JobPublic, responses=_STEERING)
async def cancel_job(
    job_id: str, session: SessionDep, temporal: TemporalDep, tenant: TenantDep
) -> JSONResponse:
    """Stop the job now; chunks already parsed stay readable (`result?partial=true`)."""
    job = await load_job(session, tenant, job_id)
    _require_open(job, JobAction.CANCEL)
    run_id = await _open_run(session, temporal, tenant, job)
    try:
        await temporal.get_workflow_handle(job.id, run_id=run_id).cancel()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            job = await _fresh(session, tenant, job_id)
            raise conflict(job.status, f"the job is {job.status}") from error
        raise Problem(503, "temporal-unavailable", "Temporal did not answer") from error
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CANCEL_SETTLE_S
    while True:
        job = await _fresh(session, tenant, job_id)
        if JobStatus(job.status).is_final or loop.time() > deadline:
            return accepted(job)
        await asyncio.sleep(0.05)


async def _open_run(session: SessionDep, temporal: Client, tenant: str, job: Job) -> str:
    """The run of the job's workflow that a cancel must reach.

    Temporal takes a cancel for a run that has already closed without complaint, so a cancel
    sent to "the latest run" while a retry is between its closed run and the new one would be
    lost. A job being retried (`queued`, its last run closed) gets the new run once it starts;
    a job whose workflow has closed in Temporal while the row still shows it open (terminated
    from Temporal's UI, not yet reconciled) cannot be cancelled.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + NEXT_RUN_START_S
    while True:
        try:
            description = await temporal.get_workflow_handle(job.id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise conflict(job.status, f"the job is {job.status}") from error
            raise Problem(503, "temporal-unavailable", "Temporal did not answer") from error
        if description.status == WorkflowExecutionStatus.RUNNING:
            return description.run_id
        job = await _fresh(session, tenant, job.id)
        _require_open(job, JobAction.CANCEL)
        if job.status != JobStatus.QUEUED.value or loop.time() > deadline:
            raise _closed_in_temporal(job)
        await asyncio.sleep(0.05)


@router.post("/{job_id}/retry", status_code=202, response_model=JobPublic, responses=_STEERING)
async def retry_job(
    job_id: str,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    tenant: TenantDep,
) -> JSONResponse:
    """Run a failed or cancelled job again; chunks already parsed are reused, not re-parsed."""
    job = await load_job(session, tenant, job_id)
    previous = job.status
    requeued = await jobs_repo.requeue(session, job_id=job.id)
    if requeued is None:
        await session.rollback()
        job = await _fresh(session, tenant, job_id)
        raise conflict(job.status, f"cannot retry a job that is {job.status}")
    await session.commit()
    handle = temporal.get_workflow_handle(job.id)
    try:
        closed = await _closed(handle)
    except Problem:
        # Temporal did not answer: the job keeps the state it had, so a later retry may run it.
        await _refuse_retry(session, job.id, previous)
        raise
    if not closed:
        await _refuse_retry(session, job.id, previous)
        raise conflict(previous, "the previous run is still closing; try again in a moment")
    job = await _fresh(session, tenant, job_id)
    await start_workflow(temporal, settings, job, session)
    return accepted(job)


async def _refuse_retry(session: AsyncSession, job_id: str, previous: str) -> None:
    await jobs_repo.record_state(
        session, job_id=job_id, status=JobStatus(previous), event="retry-refused"
    )
    await session.commit()


async def _closed(handle: WorkflowHandle[Any, Any]) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PREVIOUS_RUN_CLOSE_S
    while True:
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return True
            raise Problem(503, "temporal-unavailable", "Temporal did not answer") from error
        if description.status != WorkflowExecutionStatus.RUNNING:
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.1)


@router.patch(
    "/{job_id}",
    status_code=202,
    response_model=JobPublic,
    responses={
        **_STEERING,
        400: {"description": "The body could not be read (bad-request)"},
        422: {"description": "An invalid priority (validation-error)"},
        503: {"description": "Temporal did not answer (temporal-unavailable)"},
    },
)
async def patch_job(
    job_id: str,
    patch: JobPatch,
    session: SessionDep,
    temporal: TemporalDep,
    tenant: TenantDep,
) -> JSONResponse:
    """Change a job's priority; it applies to the chunks that have not started yet."""
    job = await load_job(session, tenant, job_id)
    if JobStatus(job.status).is_final:
        raise conflict(job.status, f"cannot change a job that is {job.status}")
    handle = temporal.get_workflow_handle(job.id)
    # Taken or not, the change stands: one that no worker took in time is decided when a
    # worker returns (202: accepted, not yet applied).
    await _update(
        handle,
        lambda: handle.execute_update(
            ParsePlayWorkflow.set_priority, patch.priority, rpc_timeout=UPDATE_TIMEOUT
        ),
        job,
    )
    return accepted(await _fresh(session, tenant, job_id))
