"""Temporal alone, beside the service: how close efficiency_short comes to its ceiling here.

The short jobs' figure mixes two costs: Temporal's own (a workflow task and an activity task
per chunk, through the dev server) and the service's (reading and storing each chunk, the
provider SDK, the job's state). `BareReference` runs the first alone, in the same run, on the
same dev server and against the same fake: the workflow of bench.bare_worker replays the
requests the service sent for one short job, C at a time, in a worker process of its own.
bench.efficiency takes turns between a service job and a bare run, so a machine that gets
busier meanwhile weighs on both alike, and reports

- efficiency_short_bare_temporal: E of the bare workflow (the median run), and
- efficiency_short_of_bare: the service's efficiency_short as a fraction of it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from bench import fake_llm_wire as wire
from bench.bare_worker import READY, BareWindowWorkflow, WindowInput
from bench.children import Child
from bench.service import Service
from bench.timeline import Makespan, calls_of, makespan, refused

TASK_QUEUE = "bench-bare"
# Headers of the recorded requests that are sent again; the rest are the connection's own.
REPLAYED_HEADERS = ("content-type", "authorization")


class BareReference:
    """The bare worker beside a running service; `run` measures one replay of the job."""

    def __init__(self, service: Service, child: Child, chunks: int) -> None:
        self.service = service
        self.child = child
        self.chunks = chunks

    @property
    def pid(self) -> int:
        return self.child.pid

    async def run(
        self, *, window: int, latency: float, calls: int | None = None, **shape: Any
    ) -> Makespan:
        """Replay `calls` requests (all of them by default), `window` at a time, L = latency;
        `shape` sets WindowInput's other fields."""
        calls = self.chunks if calls is None else calls
        await self.service.configure_fake(latency=latency, concurrency=window)
        await self.service.temporal.execute_workflow(
            BareWindowWorkflow.run,
            WindowInput(calls=calls, window=window, **shape),
            id=f"bare-{uuid.uuid4().hex[:12]}",
            task_queue=TASK_QUEUE,
        )
        logged = calls_of(await self.service.fake_log())
        if limited := refused(logged):
            print(f"  {limited} bare requests were refused with 429")
        return makespan(logged, window, latency)


def recorded_requests(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answered openai requests of one job in the fake's log, in chunk order."""
    requests: dict[int, dict[str, Any]] = {}
    for entry in log:
        if entry["protocol"] != "openai" or entry["status"] != 200:
            continue
        index = wire.read_request("openai", entry["body"]).context.index
        headers = {
            name: value
            for name, value in entry["headers"].items()
            if name.lower() in REPLAYED_HEADERS
        }
        requests[index] = {"path": entry["path"], "raw": entry["raw"], "headers": headers}
    if not requests or sorted(requests) != list(range(len(requests))):
        raise ValueError("the log does not hold one answered request for every chunk")
    return [requests[index] for index in range(len(requests))]


@contextlib.asynccontextmanager
async def bare_reference(service: Service) -> AsyncIterator[BareReference]:
    """Start the bare worker with the requests of the job the fake's log now holds, warm it
    up with a few calls at L = 0, and stop it afterwards."""
    requests = recorded_requests(await service.fake_log())
    path = service.data_dir / "bare-requests.json"
    path.write_text(json.dumps(requests))
    parts = urlsplit(service.settings.openai_base_url or "")
    child = Child(
        "bare worker",
        [
            sys.executable,
            "-m",
            "bench.bare_worker",
            "--address",
            service.settings.temporal_address,
            "--task-queue",
            TASK_QUEUE,
            "--requests",
            str(path),
            "--fake",
            f"{parts.scheme}://{parts.netloc}",
        ],
        service.data_dir / "bare-worker.log",
        {**service.workers[0].env, "PYTHONUNBUFFERED": "1"},
    )
    await child.start(READY)
    try:
        reference = BareReference(service, child, len(requests))
        await reference.run(window=4, latency=0.0, calls=min(20, len(requests)))
        yield reference
    finally:
        await child.stop()
