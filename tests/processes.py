"""Real child processes for crash tests: the Temporal dev server and `python worker.py`.

Each process runs in its own session with its output in a log file, so a test can SIGKILL it
(the whole process group, as `kill -9` would) and show the log's tail when something goes wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from temporalio.client import Client

from playparse.devstack import TemporalDevServer
from playparse.temporal import connect

ROOT = Path(__file__).resolve().parents[1]


class ChildProcess:
    """One child process, started in a new session, logging to `log`."""

    def __init__(self, name: str, args: list[str], *, log: Path, env: dict[str, str]) -> None:
        self.name = name
        self.args = args
        self.log = log
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, f"{self.name} is running"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"--- start {' '.join(self.args)}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the process and everything in its process group, and reap it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return f"({self.name}: no log)"
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return f"--- last lines of {self.log}:\n" + "\n".join(text)

    def check_running(self) -> None:
        """Fail with the log's tail when the process has exited."""
        if not self.running:
            code = None if self.process is None else self.process.returncode
            raise AssertionError(f"{self.name} exited with code {code}\n{self.tail()}")

    async def wait_for_log(self, text: str, timeout: float, *, after: int = 0) -> None:
        """Wait until `text` appears in the log after byte offset `after`."""
        deadline = time.monotonic() + timeout
        while True:
            if self.log.exists() and text.encode() in self.log.read_bytes()[after:]:
                return
            self.check_running()
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name} did not log {text!r} within {timeout} s\n{self.tail()}"
                )
            await asyncio.sleep(0.05)

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0


def clean_environment(**playparse: str) -> dict[str, str]:
    """This process's environment without any PLAYPARSE_ setting but the ones given."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PLAYPARSE_")}
    env.update({f"PLAYPARSE_{key.upper()}": value for key, value in playparse.items()})
    return env


class DevServerProcess(ChildProcess):
    """`temporal server start-dev` exactly as playparse's embedded stack runs it (headless).

    The state lives in `data_dir/temporal.db`, so a restart on the same port picks it up.
    """

    def __init__(self, data_dir: Path, port: int) -> None:
        self.server = TemporalDevServer(data_dir=data_dir, port=port, ui_port=None)
        data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(
            "temporal dev server",
            self.server.command(),
            log=data_dir / "temporal.log",
            env=clean_environment(),
        )

    @property
    def address(self) -> str:
        return self.server.address

    async def wait_ready(self, timeout: float = 30.0) -> Client:
        """A client with playparse's data converter, once the server answers."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_running()
            try:
                return await connect(self.address)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"the Temporal dev server did not answer within {timeout} s\n{self.tail()}"
                    ) from None
                await asyncio.sleep(0.1)


# worker.py logs this once its pollers run.
WORKER_READY = "worker polling task queue"


class WorkerProcess(ChildProcess):
    """`python worker.py`, configured by environment variables only."""

    def __init__(
        self, *, log: Path, temporal_address: str, database_url: str, task_queue: str
    ) -> None:
        super().__init__(
            "worker",
            [sys.executable, str(ROOT / "worker.py")],
            log=log,
            env=clean_environment(
                temporal_address=temporal_address,
                database_url=database_url,
                task_queue=task_queue,
                data_dir=str(log.parent),
            ),
        )

    async def start_polling(self, timeout: float = 30.0) -> None:
        """Start the worker and wait until it polls the task queue."""
        offset = self.log_size()
        self.start()
        await self.wait_for_log(WORKER_READY, timeout, after=offset)


class Processes:
    """The child processes of one test, all SIGKILLed at teardown whatever happened."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[ChildProcess] = []

    def temporal(self, port: int) -> DevServerProcess:
        server = DevServerProcess(self.root / "temporal", port)
        self.started.append(server)
        return server

    def worker(self, *, temporal_address: str, database_url: str, task_queue: str) -> WorkerProcess:
        number = sum(isinstance(process, WorkerProcess) for process in self.started) + 1
        worker = WorkerProcess(
            log=self.root / f"worker-{number}.log",
            temporal_address=temporal_address,
            database_url=database_url,
            task_queue=task_queue,
        )
        worker.name = f"worker {number}"
        self.started.append(worker)
        return worker

    def kill_all(self) -> None:
        for process in reversed(self.started):
            process.kill()
