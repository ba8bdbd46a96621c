"""Runs playparse workers on their own (`python worker.py`), configured from the environment."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.chunks import ChunkActivities
from activities.jobs import JobActivities
from playparse import reconcile
from playparse.config import Settings
from playparse.db.engine import create_engine, create_sessionmaker
from playparse.llm.base import Providers, default_providers
from playparse.temporal import connect
from workflows.parse_play import ParsePlayWorkflow

log = logging.getLogger("playparse.worker")

WORKFLOWS = [ParsePlayWorkflow]


def build_worker(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    providers: Providers | None = None,
    *,
    task_queue: str | None = None,
) -> Worker:
    """A worker for the job workflows and their activities, with its dependencies injected."""
    jobs = JobActivities(sessions, settings)
    chunks = ChunkActivities(sessions, providers or default_providers())
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            jobs.extract_text,
            jobs.plan_chunks,
            jobs.assemble_play,
            jobs.record_state,
            chunks.parse_chunk,
        ],
        max_concurrent_activities=settings.max_concurrent_activities,
        # Heartbeats reach the server every second, so a cancel reaches a chunk within ~2 s.
        max_heartbeat_throttle_interval=timedelta(seconds=1),
        default_heartbeat_throttle_interval=timedelta(seconds=1),
        graceful_shutdown_timeout=timedelta(seconds=20),
    )


async def main() -> None:
    """Run workers until SIGTERM or SIGINT, then let running activities finish or hand back."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    engine = create_engine(settings.resolved_database_url)
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    sessions = create_sessionmaker(engine)
    worker = build_worker(client, settings, sessions)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with worker:
        log.info(
            "worker polling task queue %s at %s", settings.task_queue, settings.temporal_address
        )
        reconciler = asyncio.create_task(reconcile.run_forever(client, sessions))
        await stop.wait()
        reconciler.cancel()
        log.info("stopping: waiting for running activities")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
