"""`python worker.py` for tuning experiments: extra Worker options, or the worker under cProfile.

    python -m bench.worker_process --options '{"max_concurrent_activity_task_polls": 10}'
    python -m bench.worker_process --profile worker.prof

`--options` is a JSON object of keyword arguments added to every `temporalio.worker.Worker` that
worker.py builds (later keys win over worker.py's). Five names are not Worker arguments:
`switch_interval: S` sets sys.setswitchinterval (how long a thread that wants the GIL waits,
5 ms by default; aiosqlite hands every statement's result back through the GIL);
`asyncio_loop: true` runs the worker on asyncio's own event loop instead of uvloop;
`unsandboxed: true` runs workflows with UnsandboxedWorkflowRunner; `autoscaling_pollers: true`
lets the SDK scale both poller kinds (PollerBehaviorAutoscaling); `db_pool_size: N` gives the
worker's database engine a pool of N connections and no overflow (SQLite then sees at most N
writers at once; the others wait in the pool rather than in SQLite's busy handler). With no
options and no profile this is exactly `python worker.py`.

With `--profile`, SIGUSR1 starts a cProfile of the worker's main thread (its event loop, where
activities and workflow activations run) and SIGUSR2 stops it and writes the stats, so a
profile covers just the work being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import signal
import sys
from typing import Any

from temporalio.worker import (
    PollerBehaviorAutoscaling,
    UnsandboxedWorkflowRunner,
    Worker,
)

import worker as worker_module
from playparse import loop


def with_options(options: dict[str, Any]) -> type[Worker]:
    """A Worker class that adds `options` to the arguments worker.py passes."""
    extra = dict(options)
    if (pool_size := extra.pop("db_pool_size", None)) is not None:
        _limit_pool(pool_size)
    if extra.pop("unsandboxed", False):
        extra["workflow_runner"] = UnsandboxedWorkflowRunner()
    if extra.pop("autoscaling_pollers", False):
        extra["workflow_task_poller_behavior"] = PollerBehaviorAutoscaling()
        extra["activity_task_poller_behavior"] = PollerBehaviorAutoscaling()

    class TunedWorker(Worker):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if "workflows" not in kwargs:
                # Activity-only workers (the LLM queues) take no workflow options.
                kwargs.update(
                    {k: v for k, v in extra.items() if "workflow" not in k and "sticky" not in k}
                )
            else:
                kwargs.update(extra)
            super().__init__(*args, **kwargs)

    return TunedWorker


def _limit_pool(size: int) -> None:
    """Make playparse.db.engine build engines with a pool of `size` and no overflow."""
    from playparse.db import engine

    build = engine.create_async_engine

    def limited(url: Any, **kwargs: Any) -> Any:
        return build(url, pool_size=size, max_overflow=0, **kwargs)

    engine.create_async_engine = limited  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_process", description=__doc__)
    parser.add_argument("--options", type=json.loads, default={})
    parser.add_argument("--profile", default=None, help="write a cProfile of the worker here")
    args = parser.parse_args()
    if (interval := args.options.pop("switch_interval", None)) is not None:
        sys.setswitchinterval(interval)
    if (threshold := args.options.pop("gc_threshold", None)) is not None:
        gc.set_threshold(*threshold)
    if args.options.pop("gc_freeze", False):
        gc.freeze()
    factory = None if args.options.pop("asyncio_loop", False) else loop.loop_factory()
    if args.options:
        worker_module.Worker = with_options(args.options)  # type: ignore[misc]
    if args.profile is not None:
        profile = cProfile.Profile()

        def start(signum: int, frame: object) -> None:
            profile.enable()

        def stop(signum: int, frame: object) -> None:
            profile.disable()
            profile.dump_stats(args.profile)

        signal.signal(signal.SIGUSR1, start)
        signal.signal(signal.SIGUSR2, stop)
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(worker_module.main())


if __name__ == "__main__":
    main()
