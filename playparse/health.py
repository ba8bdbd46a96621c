"""Whether the service is healthy, from real checks of what it depends on.

unhealthy: the database or Temporal cannot be reached (nothing can progress).
degraded: it answers, but work is not flowing: no worker polls a task queue, the oldest queued
job has waited too long, jobs are stalled, or most recent jobs failed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from playparse.db.models import Job, utcnow
from playparse.jobs import JobStatus

CHECK_TIMEOUT_S = 3.0
# A queued job older than this means nobody is picking work up.
QUEUE_AGE_LIMIT = timedelta(minutes=5)
# A running job with no progress for this long is stalled.
STALL_AFTER = timedelta(minutes=10)
# More than this share of the jobs that ended in the last hour failed.
FAILURE_RATE_LIMIT = 0.5
# Below this many ended jobs the failure rate says little.
FAILURE_RATE_MIN_JOBS = 5


@dataclass
class Check:
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)
    # A failed critical check makes the service unhealthy; any other, degraded.
    critical: bool = False


@dataclass
class Health:
    status: str
    checks: dict[str, Check]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "checks": {
                name: {"ok": c.ok, "detail": c.detail, **c.data} for name, c in self.checks.items()
            },
        }


async def _database(sessions: async_sessionmaker[AsyncSession]) -> Check:
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
    return Check(True, "reachable", critical=True)


async def _temporal(client: Client) -> Check:
    await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_S))
    return Check(True, "reachable", critical=True)


async def pollers(client: Client, task_queue: str, kind: TaskQueueType.ValueType) -> int:
    """How many workers poll a task queue (Temporal's own view)."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=kind,
        )
    )
    return len(response.pollers)


async def _workers(client: Client, task_queues: list[str]) -> Check:
    counts = {
        queue: await pollers(client, queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
        for queue in task_queues
    }
    counts[task_queues[0] + " (workflows)"] = await pollers(
        client, task_queues[0], TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
    )
    idle = [queue for queue, n in counts.items() if n == 0]
    if idle:
        return Check(False, f"no worker polls {', '.join(idle)}", {"pollers": counts})
    return Check(True, "workers polling every task queue", {"pollers": counts})


async def _jobs(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Check]:
    now = utcnow()
    async with sessions() as session:
        oldest = await session.scalar(
            select(func.min(Job.created_at)).where(Job.status == JobStatus.QUEUED.value)
        )
        stalled = list(
            await session.scalars(
                select(Job.id)
                .where(Job.status.in_([JobStatus.RUNNING.value, JobStatus.RETRYING.value]))
                .where(Job.updated_at < now - STALL_AFTER)
                .limit(20)
            )
        )
        rows = await session.execute(
            select(Job.status, func.count())
            .where(Job.completed_at >= now - timedelta(hours=1))
            .group_by(Job.status)
        )
        ended = {status: count for status, count in rows}
    checks: dict[str, Check] = {}
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    checks["queue"] = Check(
        age <= QUEUE_AGE_LIMIT.total_seconds(),
        f"oldest queued job waited {age:.0f} s" if oldest else "no job waiting",
        {"oldest_queued_s": round(age, 1)},
    )
    checks["stalled"] = Check(
        not stalled,
        f"{len(stalled)} jobs without progress for {STALL_AFTER}" if stalled else "none",
        {"jobs": stalled},
    )
    total = sum(ended.values())
    failed = ended.get(JobStatus.FAILED.value, 0)
    rate = failed / total if total else 0.0
    checks["failures"] = Check(
        total < FAILURE_RATE_MIN_JOBS or rate <= FAILURE_RATE_LIMIT,
        f"{failed} of {total} jobs ended in the last hour failed",
        {"failure_rate": round(rate, 3), "ended_last_hour": total},
    )
    return checks


async def _guarded(name: str, check: Any) -> Check:
    try:
        result: Check = await asyncio.wait_for(check, CHECK_TIMEOUT_S)
        return result
    except Exception as error:
        reason = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
        return Check(
            False, f"{name} check failed: {reason}", critical=name in ("database", "temporal")
        )


async def check_health(
    client: Client, sessions: async_sessionmaker[AsyncSession], task_queues: list[str]
) -> Health:
    """Run every check (each bounded in time) and judge the whole."""
    database, temporal = await asyncio.gather(
        _guarded("database", _database(sessions)), _guarded("temporal", _temporal(client))
    )
    checks = {"database": database, "temporal": temporal}
    if temporal.ok:
        checks["workers"] = await _guarded("workers", _workers(client, task_queues))
    if database.ok:
        try:
            checks.update(await asyncio.wait_for(_jobs(sessions), CHECK_TIMEOUT_S))
        except Exception as error:
            checks["jobs"] = Check(False, f"jobs check failed: {type(error).__name__}")
    if any(not c.ok and c.critical for c in checks.values()):
        status = "unhealthy"
    elif all(c.ok for c in checks.values()):
        status = "healthy"
    else:
        status = "degraded"
    return Health(status, checks)
