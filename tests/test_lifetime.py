"""A process killed outright (SIGKILL) leaves none of its children behind.

Each test starts a Python process that starts children as the stack and the worker do, kills
that process with SIGKILL (so none of its own clean-up runs), and watches its children end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's"
)


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state


def run_and_kill(script: str, ready: str, timeout: float = 60) -> set[int]:
    """Run `script` until it prints `ready`, SIGKILL it, and return the children it had."""
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        for line in process.stdout:
            if line.strip() == ready:
                break
            assert time.monotonic() < deadline, "the script never got ready"
        else:
            raise AssertionError(f"the script ended before {ready!r}")
        children = children_of(process.pid)
        assert children, "the script started no child"
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return children


def wait_until_gone(pids: set[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return
        time.sleep(0.1)
    left = [pid for pid in pids if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"processes {left} outlived their parent")


def test_planning_processes_end_with_the_worker_that_started_them() -> None:
    children = run_and_kill(
        """
        import asyncio, time
        from playparse.planning import PlanningProcesses

        planner = PlanningProcesses(2)
        asyncio.run(planner.warm())
        print("ready", flush=True)
        time.sleep(600)
        """,
        "ready",
    )
    wait_until_gone(children, timeout=10)


def test_the_temporal_dev_server_ends_with_the_stack_that_started_it(tmp_path: Path) -> None:
    port = free_port()
    children = run_and_kill(
        f"""
        import asyncio
        from pathlib import Path
        from playparse.devstack import TemporalDevServer

        async def main():
            server = TemporalDevServer(
                data_dir=Path({str(tmp_path)!r}), port={port}, ui_port=None
            )
            await server.start()
            print("ready", flush=True)
            await asyncio.sleep(600)

        asyncio.run(main())
        """,
        "ready",
    )
    wait_until_gone(children, timeout=20)
