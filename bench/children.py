"""Child processes of the benchmark: started in their own session, logging to a file."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path

from bench.harness import REPO


class Child:
    """A child process in its own session, its output in a log file."""

    def __init__(self, name: str, args: list[str], log: Path, env: dict[str, str]) -> None:
        self.name, self.args, self.log, self.env = name, args, log, env
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, ready: str, timeout: float = 60.0) -> str:
        """Start and wait until the log shows `ready`; returns that line."""
        out = self.log.open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.args,
                cwd=REPO,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        finally:
            out.close()
        deadline = time.monotonic() + timeout
        while (line := _line_with(self.log, ready)) is None:
            if self.process.returncode is not None or time.monotonic() > deadline:
                await self.stop()
                raise RuntimeError(f"{self.name} did not start:\n{self.tail()}")
            await asyncio.sleep(0.05)
        return line

    async def stop(self, timeout: float = 30.0) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _line_with(path: Path, marker: str) -> str | None:
    if not path.exists():
        return None
    for line in path.read_text(errors="replace").splitlines():
        if marker in line:
            return line
    return None


def child_of(parent: int, marker: str) -> int:
    """The pid of a child of `parent` whose command line contains `marker`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == parent and marker in (entry / "cmdline").read_bytes().decode():
                return int(entry.name)
    raise LookupError(f"no child of {parent} runs {marker}")
