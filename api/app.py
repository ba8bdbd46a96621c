"""The FastAPI application factory and its lifespan (the API's wiring of concrete objects)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.hosts import AllowedHostsMiddleware
from api.limits import UploadLimitMiddleware
from api.openapi import install_problem_openapi
from api.problems import install_problem_handlers
from api.routes import control, jobs, ops, pages, plays, stream
from api.web import STATIC_DIR, same_origin_writes
from playparse.config import Settings
from playparse.db.engine import create_engine, create_sessionmaker
from playparse.db.migrate import upgrade
from playparse.logs import configure_logging
from playparse.temporal import connect
from playparse.tracing import configure_tracing, instrument_api


def create_app(
    settings: Settings | None = None,
    *,
    temporal: Client | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """The API; the database and Temporal client are built in the lifespan unless given."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        if sessions is None:
            engine = create_engine(settings.resolved_database_url)
            await upgrade(engine)
            app.state.sessions = create_sessionmaker(engine)
        else:
            app.state.sessions = sessions
        app.state.temporal = temporal or await connect(
            settings.temporal_address, settings.temporal_namespace, tracing=tracing
        )
        try:
            yield
        finally:
            if engine is not None:
                await engine.dispose()

    app = FastAPI(
        title="playparse",
        summary="Durable parsing of theatre plays into structured playbooks.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    if settings.log_format == "json":
        # Production (docker compose): the API logs JSON lines like the workers.
        configure_logging(settings.log_format, settings.log_level)
    tracing = configure_tracing(settings, "playparse-api")
    if tracing:
        instrument_api(app)
    install_problem_handlers(app)
    app.add_exception_handler(stream.NothingMoreToStream, stream.nothing_more_to_stream)
    app.add_middleware(UploadLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.state.metrics = ops.Metrics()
    app.add_middleware(ops.MetricsMiddleware, metrics=app.state.metrics)
    # Added last, so it runs first: nothing else sees a request for another host.
    app.add_middleware(AllowedHostsMiddleware, allowed=settings.allowed_host_names)
    # Before the jobs router, whose /api/jobs/{job_id} would otherwise take "stats".
    app.include_router(ops.router)
    # The web page, with its live jobs list (/api/jobs/stream) and the result downloads.
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    writes = [Depends(same_origin_writes)]
    app.include_router(jobs.router, dependencies=writes)
    app.include_router(stream.router)
    app.include_router(control.router, dependencies=writes)
    app.include_router(plays.router, dependencies=writes)

    @app.get("/api/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    install_problem_openapi(app)
    return app
