"""CPU time and memory of processes, read from /proc (Linux)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command: state, ppid, ..., utime is field 14 and stime 15 of the whole line.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU time of the process's threads, summed by thread name (/proc/PID/task/*/comm).

    The main thread is called "main"; Python's other threads all show as "python".
    """
    used: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            name = "main" if task.name == str(pid) else (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / _TICKS
    return used


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """The process's high-water mark of resident memory (VmHWM) over its whole life."""
    return _status_mb(pid, "VmHWM")


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its descendants together."""
    total = 0.0
    for each in descendants(pid):
        with contextlib.suppress(OSError):
            total += rss_mb(each)
    return total


class PeakSampler:
    """Samples a process tree's resident memory while running; `peak_mb` is the largest."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every = pid, every
        self.peak_mb = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(OSError):
                self.peak_mb = max(self.peak_mb, tree_rss_mb(self.pid))
            await asyncio.sleep(self.every)

    async def __aenter__(self) -> PeakSampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        with contextlib.suppress(OSError):
            self.peak_mb = max(self.peak_mb, tree_rss_mb(self.pid), peak_rss_mb(self.pid))


def machine_cpu_seconds() -> float:
    """CPU time all processes on the machine have used (busy time of every core, /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    values = [int(v) for v in fields[:8]]
    return (sum(values) - values[3] - values[4]) / _TICKS


class CpuMeter:
    """CPU seconds each named process used between entering and leaving the block.

    `others` is what the rest of the machine used meanwhile (other sessions' tests, say): the
    figures of a run with much of it are worth less. Entered again, the meter adds the new
    block to its totals, so interleaved runs of two kinds can each have their own.
    """

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.used: dict[str, float] = {}
        self.others = 0.0
        self.wall = 0.0
        self._machine = 0.0
        self._start: dict[str, float] = {}
        self._wall = 0.0

    def __enter__(self) -> CpuMeter:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._machine = machine_cpu_seconds()
        self._wall = time.monotonic()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall += time.monotonic() - self._wall
        used = {name: cpu_seconds(pid) - self._start[name] for name, pid in self.pids.items()}
        for name, seconds in used.items():
            self.used[name] = self.used.get(name, 0.0) + seconds
        machine = machine_cpu_seconds() - self._machine
        self.others += max(0.0, machine - sum(used.values()))

    def describe(self) -> str:
        parts = [f"{name} {seconds:.2f} s" for name, seconds in self.used.items()]
        total = sum(self.used.values())
        return (
            f"CPU over {self.wall:.2f} s wall: " + ", ".join(parts) + f"; {total:.2f} s in all "
            f"({total / self.wall / (os.cpu_count() or 1):.0%} of {os.cpu_count()} cores); "
            f"other processes {self.others:.2f} s"
        )
