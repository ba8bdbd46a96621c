"""Runs playparse workers on their own (`python worker.py`), configured from the environment."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.chunks import ChunkActivities
from activities.jobs import JobActivities
from activities.retention import RetentionActivities
from playparse import loop, reconcile
from playparse.config import Settings
from playparse.db.engine import create_engine, create_sessionmaker
from playparse.llm.base import LLM_PROVIDERS, Providers, default_providers
from playparse.logs import configure_logging
from playparse.planning import PlanningProcesses
from playparse.schedules import ensure_retention
from playparse.temporal import connect, worker_runtime
from playparse.tracing import configure_tracing
from workflows.parse_play import ParsePlayWorkflow
from workflows.retention import RetentionWorkflow

log = logging.getLogger("playparse.worker")

WORKFLOWS = [ParsePlayWorkflow, RetentionWorkflow]


def build_worker(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    providers: Providers | None = None,
    *,
    task_queue: str | None = None,
    planner: PlanningProcesses | None = None,
) -> Worker:
    """A worker for the job workflows and their activities, with its dependencies injected.

    Chunks parsed by the heuristic parser run here too; LLM chunks run on the providers' own
    task queues (see `build_llm_workers`).
    """
    jobs = JobActivities(sessions, settings, planner)
    chunks = ChunkActivities(sessions, providers or default_providers(settings), settings)
    retention = RetentionActivities(sessions)
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
            retention.purge_old_jobs,
        ],
        max_concurrent_activities=settings.max_concurrent_activities,
        # Heartbeats reach the server every second, so a cancel reaches a chunk within ~2 s.
        max_heartbeat_throttle_interval=timedelta(seconds=1),
        default_heartbeat_throttle_interval=timedelta(seconds=1),
        graceful_shutdown_timeout=timedelta(seconds=20),
    )


def build_llm_workers(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    providers: Providers | None = None,
    *,
    task_queue: str | None = None,
) -> list[Worker]:
    """One worker per configured LLM provider, on that provider's task queue.

    Temporal's task-queue rate limit holds each provider's request rate across all workers;
    concurrency per provider is max_concurrent_llm_calls per worker process, held by the chunk
    activity around its request, while llm_extra_slots more chunks read and store meanwhile.
    """
    providers = providers or default_providers(settings)
    chunks = ChunkActivities(sessions, providers, settings)
    base = task_queue or settings.task_queue
    rates = {
        "anthropic": settings.anthropic_requests_per_s,
        "openai": settings.openai_requests_per_s,
    }
    return [
        Worker(
            client,
            task_queue=f"{base}-{name}",
            activities=[chunks.parse_chunk],
            max_concurrent_activities=settings.max_concurrent_llm_calls + settings.llm_extra_slots,
            max_task_queue_activities_per_second=rates.get(name),
            # The task-queue limit lets a first burst of rate+1 through; the worker's own limit
            # smooths it (per process, so the global rate stays the task queue's).
            max_activities_per_second=rates.get(name),
            max_heartbeat_throttle_interval=timedelta(seconds=1),
            default_heartbeat_throttle_interval=timedelta(seconds=1),
            graceful_shutdown_timeout=timedelta(seconds=20),
        )
        for name in providers.names
        if name in LLM_PROVIDERS
    ]


async def main() -> None:
    """Run workers until SIGTERM or SIGINT, then let running activities finish or hand back."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    tracing = configure_tracing(settings, "playparse-worker")
    engine = create_engine(settings.resolved_database_url)
    client = await connect(
        settings.temporal_address,
        settings.temporal_namespace,
        runtime=worker_runtime(settings.worker_metrics_address),
        tracing=tracing,
    )
    sessions = create_sessionmaker(engine)
    providers = default_providers(settings)
    planner = await start_planning(settings)
    worker = build_worker(client, settings, sessions, providers, planner=planner)
    llm_workers = build_llm_workers(client, settings, sessions, providers)
    stop = asyncio.Event()
    event_loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        event_loop.add_signal_handler(signum, stop.set)
    async with contextlib.AsyncExitStack() as running:
        if planner is not None:
            # Closed last, once the workers have stopped asking it for plans.
            running.callback(planner.close)
        for each in (worker, *llm_workers):
            await running.enter_async_context(each)
        await ensure_retention(client, settings)
        log.info(
            "worker polling task queue %s at %s (providers: %s)",
            settings.task_queue,
            settings.temporal_address,
            ", ".join(providers.names),
        )
        reconciler = asyncio.create_task(reconcile.run_forever(client, sessions))
        await stop.wait()
        reconciler.cancel()
        log.info("stopping: waiting for running activities")
    await providers.aclose()
    await engine.dispose()


async def start_planning(settings: Settings) -> PlanningProcesses | None:
    """The planning processes the settings ask for, started and ready for a first job."""
    if not settings.planning_processes:
        return None
    planner = PlanningProcesses(settings.planning_processes)
    await planner.warm()
    return planner


if __name__ == "__main__":
    loop.run(main())
    # Everything is stopped and flushed; ending here skips an interpreter teardown that can
    # abort while the Temporal runtime's threads are still being released.
    logging.shutdown()
    os._exit(0)
