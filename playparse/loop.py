"""The event loop the worker and the embedded stack run on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (with uvicorn[standard]), else asyncio's own loop.

    The worker's one event loop runs every activity and workflow activation; its scheduling
    and socket handling cost per chunk is what uvloop lowers (efficiency_short 0.458 with
    asyncio's loop, 0.557 with uvloop in bench/README.md "Tuning").
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
