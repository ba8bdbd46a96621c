"""Planning in child processes gives the plan planning in the worker gives, and survives a kill."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator

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
