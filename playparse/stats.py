"""What the service has done: jobs by state, provider, format and priority, times, errors, cost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from playparse.db.models import Job, utcnow
from playparse.jobs import JobStatus

# Queue and processing times are taken over the jobs that started in this window.
TIMING_WINDOW = timedelta(days=7)
TOP_ERRORS = 10


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


async def _counts(session: AsyncSession, tenant_id: str, column: Any) -> dict[str, int]:
    rows = await session.execute(
        select(column, func.count()).where(Job.tenant_id == tenant_id).group_by(column)
    )
    return {str(key): count for key, count in rows}


async def spend(session: AsyncSession, *, tenant_id: str | None = None) -> tuple[int, int, float]:
    """Input tokens, output tokens and cost (USD) of all jobs, or of one tenant's."""
    query = select(
        func.coalesce(func.sum(Job.input_tokens), 0),
        func.coalesce(func.sum(Job.output_tokens), 0),
        func.coalesce(func.sum(Job.cost_usd), 0.0),
    )
    if tenant_id is not None:
        query = query.where(Job.tenant_id == tenant_id)
    row = (await session.execute(query)).one()
    return int(row[0]), int(row[1]), float(row[2])


async def job_stats(session: AsyncSession, *, tenant_id: str) -> dict[str, Any]:
    """The figures of GET /api/jobs/stats for one tenant."""
    now = utcnow()
    by_status = await _counts(session, tenant_id, Job.status)
    completed = by_status.get(JobStatus.COMPLETED.value, 0)
    failed = by_status.get(JobStatus.FAILED.value, 0)
    ended = completed + failed + by_status.get(JobStatus.CANCELLED.value, 0)

    timing_rows = await session.execute(
        select(Job.created_at, Job.started_at, Job.completed_at, Job.status)
        .where(Job.tenant_id == tenant_id)
        .where(Job.started_at.is_not(None))
        .where(Job.started_at >= now - TIMING_WINDOW)
    )
    queue_s: list[float] = []
    processing_s: list[float] = []
    for created, started, finished, status in timing_rows:
        if started is None:
            continue
        queue_s.append((started - created).total_seconds())
        if finished is not None and status == JobStatus.COMPLETED.value:
            processing_s.append((finished - started).total_seconds())

    throughput = {}
    for label, span in (
        ("hour", timedelta(hours=1)),
        ("day", timedelta(days=1)),
        ("week", timedelta(days=7)),
    ):
        throughput[label] = (
            await session.scalar(
                select(func.count())
                .where(Job.tenant_id == tenant_id)
                .where(Job.status == JobStatus.COMPLETED.value)
                .where(Job.completed_at >= now - span)
            )
        ) or 0

    error_rows = await session.execute(
        select(Job.error_type, Job.error_message, func.count())
        .where(Job.tenant_id == tenant_id)
        .where(Job.status == JobStatus.FAILED.value)
        .group_by(Job.error_type, Job.error_message)
        .order_by(func.count().desc())
        .limit(TOP_ERRORS)
    )
    spent = await spend(session, tenant_id=tenant_id)
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_provider": await _counts(session, tenant_id, Job.provider),
        "by_format": await _counts(session, tenant_id, Job.format),
        "by_priority": await _counts(session, tenant_id, Job.priority),
        "success_rate": round(completed / ended, 4) if ended else None,
        "queue_seconds": {"mean": _mean(queue_s), "p95": _p95(queue_s)},
        "processing_seconds": {"mean": _mean(processing_s), "p95": _p95(processing_s)},
        "completed": throughput,
        "top_errors": [
            {"type": kind, "message": message, "count": count}
            for kind, message, count in error_rows
        ],
        "tokens": {"input": spent[0], "output": spent[1]},
        "cost_usd": round(spent[2], 6),
    }
