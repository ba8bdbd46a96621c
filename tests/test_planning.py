"""Planning in child processes gives the plan planning in the worker gives, and survives a kill."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from playparse.planning import PlanningProcesses, plan_play
from tests.helpers import EXAMPLE


@pytest.fixture
async def planner() -> AsyncIterator[PlanningProcesses]:
    processes = PlanningProcesses(1)
    await processes.warm()
    yield processes
    processes.close()


async def test_a_child_process_plans_as_the_worker_would(planner: PlanningProcesses) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert await planner.plan(text, 2500) == plan_play(text, 2500)


async def test_a_killed_planning_process_fails_one_attempt_and_is_replaced(
    planner: PlanningProcesses,
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for pid in list(planner._pool._processes):  # the pool's children, by pid
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match="planning process ended"):
        await planner.plan(text, 2500)
    assert await planner.plan(text, 2500) == plan_play(text, 2500)


def ended(pid: int) -> bool:
    """Whether a child process has ended (gone, or a zombie nobody has reaped yet)."""
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "\nState:\tZ" in status.read_text()


async def test_an_abandoned_plan_ends_its_process_and_the_next_plan_runs_at_once(
    planner: PlanningProcesses,
) -> None:
    # About fifteen seconds of planning, abandoned after half a second.
    text = EXAMPLE.read_text(encoding="utf-8") * 100
    children = list(planner._pool._processes)
    planning = asyncio.ensure_future(planner.plan(text, 2500))
    await asyncio.sleep(0.5)
    planning.cancel()
    with pytest.raises(asyncio.CancelledError):
        await planning
    for _ in range(50):
        if all(ended(pid) for pid in children):
            break
        await asyncio.sleep(0.1)
    assert all(ended(pid) for pid in children)
    small = EXAMPLE.read_text(encoding="utf-8")
    assert await planner.plan(small, 2500) == plan_play(small, 2500)


async def test_closing_abandons_a_running_plan() -> None:
    planner = PlanningProcesses(1)
    await planner.warm()
    children = list(planner._pool._processes)
    planning = asyncio.ensure_future(planner.plan(EXAMPLE.read_text(encoding="utf-8") * 100, 2500))
    await asyncio.sleep(0.5)
    started = time.monotonic()
    await asyncio.to_thread(planner.close)
    # The plan needs about a minute; closing waited for it before.
    assert time.monotonic() - started < 10
    for _ in range(50):
        if all(ended(pid) for pid in children):
            break
        await asyncio.sleep(0.1)
    assert all(ended(pid) for pid in children)
    with pytest.raises((RuntimeError, asyncio.CancelledError)):
        await planning
