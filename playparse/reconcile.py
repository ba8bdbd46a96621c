"""Keeping the job projection true to Temporal when Temporal acted without our code.

A workflow terminated or reset from the Temporal Web UI or CLI runs none of the workflow's
code, so nothing records the change. The reconciler compares the two now and then and writes
down what really happened: a terminated or timed-out workflow fails its job ("terminated in
Temporal"); a failed or cancelled job whose workflow runs again after a reset goes back to
`running` (through `queued`, with a `reset` event), so the new run can record its progress, or
to `completed` when that run has already saved its play and closed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from playparse.db import jobs as jobs_repo
from playparse.db.models import Job, JobEvent, utcnow
from playparse.health import STALL_AFTER
from playparse.jobs import FINAL_STATES, JobError, JobStatus

log = logging.getLogger("playparse.reconcile")

# A job untouched for this long is compared with its workflow.
STALE_AFTER = timedelta(seconds=20)
EVERY = timedelta(seconds=15)
# Closed workflows are looked at for this long after they close.
RECENT = timedelta(hours=1)
BATCH = 200

_CLOSED_AS: dict[WorkflowExecutionStatus, tuple[JobStatus, str | None]] = {
    WorkflowExecutionStatus.TERMINATED: (JobStatus.FAILED, "terminated in Temporal"),
    WorkflowExecutionStatus.TIMED_OUT: (JobStatus.FAILED, "timed out in Temporal"),
    WorkflowExecutionStatus.FAILED: (JobStatus.FAILED, "the workflow failed in Temporal"),
    WorkflowExecutionStatus.CANCELED: (JobStatus.CANCELLED, None),
}


@dataclass(frozen=True)
class Correction:
    job_id: str
    was: str
    now: str
    reason: str


async def reconcile_once(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    *,
    stale_after: timedelta = STALE_AFTER,
) -> list[Correction]:
    """Compare jobs with their workflows once; returns the corrections made."""
    corrections = await _closed_workflows(client, sessions, stale_after)
    corrections += await _running_again(client, sessions, stale_after)
    corrections += await _mark_stalled(sessions)
    for correction in corrections:
        log.info(
            "job %s: %s -> %s (%s)",
            correction.job_id,
            correction.was,
            correction.now,
            correction.reason,
        )
    return corrections


async def _closed_workflows(
    client: Client, sessions: async_sessionmaker[AsyncSession], stale_after: timedelta
) -> list[Correction]:
    """Open jobs whose workflow closed without saying so."""
    async with sessions() as session:
        rows = await session.execute(
            select(Job.id, Job.status)
            .where(Job.status.not_in([s.value for s in FINAL_STATES]))
            .where(Job.updated_at <= utcnow() - stale_after)
            .order_by(Job.updated_at)
            .limit(BATCH)
        )
        open_jobs = list(rows)
    corrections = []
    for job_id, status in open_jobs:
        try:
            description = await client.get_workflow_handle(job_id).describe()
        except RPCError as rpc_error:
            if rpc_error.status != RPCStatusCode.NOT_FOUND:
                raise
            new, reason = JobStatus.FAILED, "the workflow no longer exists in Temporal"
        else:
            if description.status not in _CLOSED_AS:
                continue
            new, message = _CLOSED_AS[description.status]
            reason = message or "cancelled in Temporal"
        failure = JobError("WorkflowClosed", reason) if new == JobStatus.FAILED else None
        async with sessions.begin() as session:
            job = await jobs_repo.record_state(
                session,
                job_id=job_id,
                status=new,
                event=new.value,
                detail={"reason": reason, "by": "reconciler"},
                error=failure,
            )
        if job is not None:
            corrections.append(Correction(job_id, status, new.value, reason))
    return corrections


async def _running_again(
    client: Client, sessions: async_sessionmaker[AsyncSession], stale_after: timedelta
) -> list[Correction]:
    """Failed or cancelled jobs whose workflow ran again after a reset in Temporal.

    A workflow records its job's end one step before it closes, and the list of workflows may
    lag behind: only a job that ended `stale_after` ago is looked at, and only when Temporal's
    own description of its workflow (not the list) says it runs or completed again.
    """
    since = (utcnow() - RECENT).isoformat().replace("+00:00", "Z")
    query = (
        "WorkflowType = 'ParsePlayWorkflow' AND (ExecutionStatus = 'Running' OR "
        f"(ExecutionStatus = 'Completed' AND CloseTime > '{since}'))"
    )
    latest = {execution.id async for execution in client.list_workflows(query, limit=BATCH)}
    if not latest:
        return []
    async with sessions() as session:
        rows = await session.execute(
            select(Job.id, Job.status, Job.play_id)
            .where(Job.id.in_(list(latest)))
            .where(Job.status.in_([JobStatus.FAILED.value, JobStatus.CANCELLED.value]))
            .where(Job.updated_at <= utcnow() - stale_after)
        )
        final_jobs = list(rows)
    corrections = []
    for job_id, status, play_id in final_jobs:
        try:
            now = (await client.get_workflow_handle(job_id).describe()).status
        except RPCError:
            continue
        if now not in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED):
            continue
        completed = now == WorkflowExecutionStatus.COMPLETED
        if completed and play_id is None:
            continue
        reason = "the workflow ran again after a reset in Temporal"
        steps = [JobStatus.QUEUED, JobStatus.RUNNING]
        if completed:
            steps.append(JobStatus.COMPLETED)
        async with sessions.begin() as session:
            job: Job | None = None
            for n, step in enumerate(steps):
                job = await jobs_repo.record_state(
                    session,
                    job_id=job_id,
                    status=step,
                    event="reset" if n == 0 else None,
                    detail={"reason": reason, "by": "reconciler"},
                )
                if job is None:
                    break
        if job is not None:
            corrections.append(Correction(job_id, status, steps[-1].value, reason))
    return corrections


async def _mark_stalled(sessions: async_sessionmaker[AsyncSession]) -> list[Correction]:
    """Note in their events the running jobs without progress for STALL_AFTER (once each).

    Temporal's heartbeat and start-to-close timeouts retry the stuck activity; the event and
    the health check make the stall visible meanwhile.
    """
    async with sessions.begin() as session:
        jobs = list(
            await session.scalars(
                select(Job)
                .where(Job.status.in_([JobStatus.RUNNING.value, JobStatus.RETRYING.value]))
                .where(Job.updated_at < utcnow() - STALL_AFTER)
                .limit(BATCH)
            )
        )
        corrections = []
        for job in jobs:
            latest = await session.scalar(
                select(JobEvent.kind)
                .where(JobEvent.job_id == job.id)
                .order_by(JobEvent.id.desc())
                .limit(1)
            )
            if latest == "stalled":
                continue
            idle = (utcnow() - job.updated_at).total_seconds()
            await jobs_repo.add_event(
                session,
                job=job,
                kind="stalled",
                detail={"idle_s": round(idle), "by": "reconciler"},
            )
            corrections.append(Correction(job.id, job.status, job.status, "stalled"))
    return corrections


async def run_forever(
    client: Client, sessions: async_sessionmaker[AsyncSession], *, every: timedelta = EVERY
) -> None:
    """Reconcile every `every` until cancelled; a failed round is logged and retried."""
    while True:
        try:
            await reconcile_once(client, sessions)
        except Exception:
            log.exception("reconciliation round failed; trying again later")
        await asyncio.sleep(every.total_seconds())
