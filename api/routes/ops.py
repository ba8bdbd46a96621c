"""Operations: health with real checks, job statistics, Prometheus metrics."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from api.schemas import HealthReport
from playparse.db.models import Job
from playparse.health import check_health
from playparse.jobs import JobStatus
from playparse.llm.base import configured_providers
from playparse.stats import job_stats, spend

router = APIRouter(tags=["operations"])


@router.get(
    "/api/health",
    # The report is answered as built by playparse.health, in this shape.
    response_model=HealthReport,
    responses={503: {"description": "Degraded or unhealthy", "model": HealthReport}},
)
async def health(request: Request, temporal: TemporalDep, settings: SettingsDep) -> JSONResponse:
    """healthy (200), or degraded / unhealthy (503) with the reasons in `checks`."""
    queues = [settings.task_queue] + [
        settings.llm_task_queue(name) for name in configured_providers(settings)[1:]
    ]
    result = await check_health(temporal, request.app.state.sessions, queues)
    return JSONResponse(result.as_dict(), status_code=200 if result.status == "healthy" else 503)


@router.get("/api/jobs/stats")
async def stats(session: SessionDep, tenant: TenantDep) -> dict[str, Any]:
    """Counts by state, provider, format and priority; times; throughput; errors; cost."""
    return await job_stats(session, tenant_id=tenant)


class Metrics:
    """The API's Prometheus metrics, in a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "playparse_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "playparse_http_request_seconds",
            "Time to answer an HTTP request (to the first byte of a stream).",
            ["method", "route"],
            registry=self.registry,
        )
        self.jobs = Gauge("playparse_jobs", "Jobs by state.", ["status"], registry=self.registry)
        self.queue_depth = Gauge(
            "playparse_queue_depth", "Jobs waiting to start (queued).", registry=self.registry
        )
        self.tokens = Gauge(
            "playparse_tokens",
            "Provider tokens spent, by direction.",
            ["direction"],
            registry=self.registry,
        )
        self.cost = Gauge("playparse_cost_usd", "Provider cost so far.", registry=self.registry)


class MetricsMiddleware:
    """Counts and times every request by its route template (never by raw path)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        timed = False

        async def timing_send(message: Message) -> None:
            nonlocal status, timed
            if message["type"] == "http.response.start":
                status = message["status"]
                route = scope.get("route")
                template = getattr(route, "path", "unmatched")
                self.metrics.latency.labels(scope["method"], template).observe(
                    time.perf_counter() - started
                )
                timed = True
            await send(message)

        try:
            await self.app(scope, receive, timing_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, session: SessionDep) -> Response:
    """Prometheus text format; job gauges are read from the database at scrape time."""
    registry: Metrics = request.app.state.metrics
    rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    counts = {status: count for status, count in rows}
    for status in JobStatus:
        registry.jobs.labels(status.value).set(counts.get(status.value, 0))
    registry.queue_depth.set(counts.get(JobStatus.QUEUED.value, 0))
    spent = await spend(session)
    registry.tokens.labels("input").set(spent[0])
    registry.tokens.labels("output").set(spent[1])
    registry.cost.set(spent[2])
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
