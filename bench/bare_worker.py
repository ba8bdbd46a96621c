"""A bare Temporal workflow and its worker: the reference that bench.bare_temporal measures.

The workflow keeps `window` activities running over `calls` indices, the sliding window the
parse workflow uses for chunks. Each activity sends one recorded request (the exact bytes the
service's openai provider sent for that chunk) to the fake LLM and checks for a 200; nothing
else: no database, no provider SDK, no prompt building, no job state. The worker is a process
of its own on the same event loop as `python worker.py`, with the default workflow sandbox.

    python -m bench.bare_worker --address HOST:PORT --task-queue Q --requests FILE --fake URL

`FILE` is a JSON list of {"path", "raw", "headers"} in chunk order (bench.bare_temporal writes
it from the fake's log); `URL` is the fake's origin.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.common import Priority

with workflow.unsafe.imports_passed_through():
    import httpx
    from temporalio.client import Client
    from temporalio.worker import Worker

    from playparse import loop

# What the worker prints once it polls.
READY = "bare worker ready"
# Activities at once in the worker: more than any window the benchmark uses.
SLOTS = 16


@dataclass
class WindowInput:
    calls: int
    window: int
    # The shape of the service's chunk activities, one part at a time (bench.tuning --bare):
    # their own task queue (the worker's second queue), a heartbeat timeout, a priority.
    own_queue: bool = False
    heartbeat_s: float | None = None
    priority: int | None = None


@workflow.defn(name="BareWindow")
class BareWindowWorkflow:
    @workflow.run
    async def run(self, input: WindowInput) -> int:
        waiting = list(range(input.calls))
        running: set[asyncio.Task[None]] = set()
        while waiting or running:
            while waiting and len(running) < input.window:
                index = waiting.pop(0)
                running.add(asyncio.create_task(self._send(input, index)))
            done, pending = await workflow.wait(running, return_when=asyncio.FIRST_COMPLETED)
            running = set(pending)
            for task in done:
                task.result()
        return input.calls

    async def _send(self, input: WindowInput, index: int) -> None:
        queue = activity_queue(workflow.info().task_queue) if input.own_queue else None
        heartbeat = timedelta(seconds=input.heartbeat_s) if input.heartbeat_s else None
        priority = Priority(priority_key=input.priority) if input.priority else Priority.default
        await workflow.execute_activity(
            "send_recorded",
            index,
            task_queue=queue,
            start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=heartbeat,
            priority=priority,
        )


def activity_queue(task_queue: str) -> str:
    """The worker's second task queue, with the activity alone (no eager start from there)."""
    return f"{task_queue}-activities"


class RecordedRequests:
    """Replays the recorded request of chunk `index` against the fake."""

    def __init__(self, requests: list[dict[str, Any]], origin: str) -> None:
        self._requests = requests
        self._http = httpx.AsyncClient(base_url=origin, timeout=60)

    @activity.defn(name="send_recorded")
    async def send(self, index: int) -> None:
        request = self._requests[index]
        response = await self._http.post(
            request["path"], content=request["raw"].encode(), headers=request["headers"]
        )
        response.raise_for_status()


async def serve(address: str, task_queue: str, requests: list[dict[str, Any]], origin: str) -> None:
    recorded = RecordedRequests(requests, origin)
    client = await Client.connect(address)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[BareWindowWorkflow],
        activities=[recorded.send],
        max_concurrent_activities=SLOTS,
    )
    activities = Worker(
        client,
        task_queue=activity_queue(task_queue),
        activities=[recorded.send],
        max_concurrent_activities=SLOTS,
    )
    async with worker, activities:
        print(READY, flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_worker", description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--requests", type=Path, required=True)
    parser.add_argument("--fake", required=True, help="the fake LLM's origin")
    args = parser.parse_args()
    requests = json.loads(args.requests.read_text())
    loop.run(serve(args.address, args.task_queue, requests, args.fake))


if __name__ == "__main__":
    main()
