"""Running a coroutine while heartbeating, so cancellation reaches a long activity promptly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio import activity

T = TypeVar("T")

HEARTBEAT_EVERY_S = 1.0


async def heartbeating(
    awaitable: Awaitable[T],
    *,
    every: float = HEARTBEAT_EVERY_S,
    details: Callable[[], Any] | None = None,
) -> T:
    """Await `awaitable`, heartbeating every `every` seconds; cancelling this cancels it too.

    `details`, when given, is called at each heartbeat for the progress to record with it (an
    attempt after a crash reads the last one back).
    """
    task = asyncio.ensure_future(awaitable)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every)
            if done:
                return task.result()
            if details is None:
                activity.heartbeat()
            else:
                activity.heartbeat(details())
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
