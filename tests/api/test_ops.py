"""Health from real checks, job statistics and Prometheus metrics, over HTTP."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker import Worker

from playparse.db.models import Job, utcnow
from tests.api.test_jobs_api import submit, wait_until_final
from tests.conftest import Api
from tests.helpers import EXAMPLE


async def test_health_is_degraded_without_workers_and_healthy_with_them(api: Api) -> None:
    response = await api.http.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] and body["checks"]["temporal"]["ok"]
    assert not body["checks"]["workers"]["ok"]
    assert "no worker polls" in body["checks"]["workers"]["detail"]
    assert (await api.http.get("/api/health/live")).json() == {"status": "ok"}


async def test_health_with_workers_then_a_stalled_and_an_old_queued_job(
    api: Api, worker: Worker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    await wait_until_final(api, job["id"])
    healthy = await api.http.get("/api/health")
    assert healthy.status_code == 200, healthy.json()
    assert healthy.json()["status"] == "healthy"

    stalled = (await submit(api, b"ANNA.\nHi.\n")).json()
    await wait_until_final(api, stalled["id"])
    async with sessions.begin() as session:
        await session.execute(
            update(Job)
            .where(Job.id == stalled["id"])
            .values(status="running", updated_at=utcnow() - timedelta(hours=1))
        )
    degraded = await api.http.get("/api/health")
    assert degraded.status_code == 503
    checks = degraded.json()["checks"]
    assert checks["stalled"]["jobs"] == [stalled["id"]]
    assert degraded.json()["status"] == "degraded"


async def test_stats_count_jobs_and_their_times(api: Api, worker: Worker) -> None:
    # The database is shared by the session's tests, so the figures are compared before/after.
    before = (await api.http.get("/api/jobs/stats")).json()
    done = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name, priority=5)).json()
    broken = (await submit(api, b"   \n")).json()
    await wait_until_final(api, done["id"])
    await wait_until_final(api, broken["id"])
    stats = (await api.http.get("/api/jobs/stats")).json()

    def grew(group: str, key: str) -> int:
        return int(stats[group].get(key, 0)) - int(before[group].get(key, 0))

    assert stats["total"] - before["total"] == 2
    assert grew("by_status", "completed") == 1 and grew("by_status", "failed") == 1
    assert grew("by_provider", "heuristic") == 2
    assert grew("by_format", "txt") == 2
    assert grew("by_priority", "5") == 1
    assert 0 < stats["success_rate"] < 1
    assert stats["processing_seconds"]["p95"] > 0
    assert stats["queue_seconds"]["mean"] >= 0
    assert stats["completed"]["hour"] - before["completed"]["hour"] == 1
    assert stats["top_errors"][0]["count"] >= 1


async def test_metrics_in_prometheus_format(api: Api, worker: Worker) -> None:
    job = (await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)).json()
    await wait_until_final(api, job["id"])
    await api.http.get(f"/api/jobs/{job['id']}")
    text = (await api.http.get("/metrics")).text
    assert 'playparse_jobs{status="completed"}' in text
    assert "playparse_queue_depth" in text
    assert (
        'playparse_http_requests_total{method="GET",route="/api/jobs/{job_id}",status="200"}'
        in text
    )
    assert (
        'playparse_http_request_seconds_bucket{le="0.005",method="POST",route="/api/jobs"}' in text
    )
    assert job["id"] not in text  # routes are counted by template, never by raw path
