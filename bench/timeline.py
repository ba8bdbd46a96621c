"""Reading timings from the fake LLM's request log and a job's Temporal history.

The fake stamps each request with time.monotonic() (system-wide on Linux); Temporal stamps
history events with the wall clock. `wall_offset()` converts the one into the other.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench import fake_llm_wire as wire
from bench.harness import p50, p95


@dataclass(frozen=True)
class Call:
    """One request the fake received: which chunk, when (monotonic), and how it ended."""

    index: int | None
    started: float
    ended: float
    status: int | None
    reply: str


def calls_of(log: list[dict[str, Any]]) -> list[Call]:
    calls = []
    for entry in log:
        if entry["protocol"] != "openai":
            continue
        try:
            index: int | None = wire.read_request("openai", entry["body"]).context.index
        except wire.BadRequest:
            index = None
        ended = entry["ended"] if entry["ended"] is not None else entry["started"]
        calls.append(Call(index, entry["started"], ended, entry["status"], entry["reply"]))
    return calls


def answered(calls: list[Call]) -> list[Call]:
    return [call for call in calls if call.status == 200]


def refused(calls: list[Call]) -> int:
    """Requests answered 429 (the fake's limits or a script)."""
    return sum(1 for call in calls if call.status == 429)


@dataclass(frozen=True)
class Makespan:
    """T from the first chunk call's start to the last one's end, against T* = ceil(M/C)*L."""

    chunks: int
    concurrency: int
    latency: float
    seconds: float

    @property
    def rounds(self) -> int:
        return math.ceil(self.chunks / self.concurrency)

    @property
    def ideal(self) -> float:
        return self.rounds * self.latency

    @property
    def efficiency(self) -> float:
        return self.ideal / self.seconds

    @property
    def overhead_ms(self) -> float:
        """What each window slot loses per chunk beyond the call itself."""
        return 1000 * (self.seconds - self.ideal) / self.rounds

    def describe(self) -> str:
        if not self.latency:
            return (
                f"M={self.chunks} C={self.concurrency} L=0: T={self.seconds:.3f} s, "
                f"{self.chunks / self.seconds:.1f} chunks/s, "
                f"{self.overhead_ms:.1f} ms per chunk per slot"
            )
        return (
            f"M={self.chunks} C={self.concurrency} L={self.latency:g} s: "
            f"T={self.seconds:.3f} s, T*={self.ideal:.3f} s, E={self.efficiency:.3f}, "
            f"{self.overhead_ms:.1f} ms per chunk per slot"
        )


def makespan(calls: list[Call], concurrency: int, latency: float) -> Makespan:
    done = answered(calls)
    if not done:
        raise ValueError("no answered chunk calls in the log")
    seconds = max(c.ended for c in done) - min(c.started for c in done)
    return Makespan(len(done), concurrency, latency, seconds)


def handover_gaps(calls: list[Call], slots: int) -> list[float]:
    """Seconds from a call's end to the start of the call that took its slot.

    The first `slots` calls fill the window; after that each start is paired with the earliest
    end not yet paired (first in, first out), which is exact when every slot is kept busy.
    """
    done = answered(calls)
    starts = sorted(c.started for c in done)[slots:]
    ends = sorted(c.ended for c in done)
    return [start - end for start, end in zip(starts, ends, strict=False)]


def idle_thirds(calls: list[Call], slots: int) -> list[float]:
    """Slot-seconds the provider's `slots` places stood empty in each third of the makespan.

    Where the loss lies: the first third holds the jobs' start (extraction and planning of
    all of them), the last their end (jobs running out of chunks to fill the window).
    """
    done = answered(calls)
    start = min(c.started for c in done)
    third = (max(c.ended for c in done) - start) / 3
    idle = []
    for part in range(3):
        low, high = start + part * third, start + (part + 1) * third
        busy = sum(max(0.0, min(c.ended, high) - max(c.started, low)) for c in done)
        idle.append(slots * third - busy)
    return idle


def wall_offset() -> float:
    """Add this to a time.monotonic() value to get the wall-clock time."""
    return time.time() - time.monotonic()


def _seconds(event: Any) -> float:
    return float(event.event_time.seconds) + event.event_time.nanos / 1e9


async def chunk_phases(
    client: Client, job_id: str, calls: list[Call], offset: float
) -> dict[str, list[float]]:
    """Where a chunk's turnaround goes, phase by phase, in seconds (see bench/README.md).

    worker_before_call: activity task started -> request reaches the fake (DB reads, prompt);
    worker_after_call: fake answers -> activity completed (DB writes, completion);
    workflow_reacts: a chunk completed -> the next chunk scheduled (one workflow task);
    wft_queue / wft_run: that workflow task's wait for a poller and its run on the worker;
    activity_dispatch: next chunk scheduled -> its activity task started on the worker.
    """
    history = await client.get_workflow_handle(job_id).fetch_history()
    scheduled: dict[int, tuple[int, float]] = {}
    started: dict[int, float] = {}
    completed: dict[int, float] = {}
    wft_scheduled: dict[int, float] = {}
    wft_waits, wft_runs = [], []
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name == "parse_chunk":
                index = json.loads(attributes.input.payloads[0].data)["index"]
                scheduled[event.event_id] = (index, _seconds(event))
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started[event.activity_task_started_event_attributes.scheduled_event_id] = _seconds(
                event
            )
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            completed[done.scheduled_event_id] = _seconds(event)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            wft_scheduled[event.event_id] = _seconds(event)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            scheduled_id = event.workflow_task_started_event_attributes.scheduled_event_id
            wft_waits.append(_seconds(event) - wft_scheduled[scheduled_id])
            wft_started = _seconds(event)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            wft_runs.append(_seconds(event) - wft_started)
    by_index = {call.index: call for call in answered(calls)}
    phases: dict[str, list[float]] = defaultdict(list)
    done_times = sorted(completed[i] for i in scheduled if i in completed)
    first_done = done_times[0] if done_times else math.inf
    for event_id, (index, when) in scheduled.items():
        call = by_index.get(index)
        if event_id not in started or event_id not in completed or call is None:
            continue
        phases["activity_dispatch"].append(started[event_id] - when)
        phases["worker_before_call"].append(call.started + offset - started[event_id])
        phases["worker_after_call"].append(completed[event_id] - (call.ended + offset))
        if when > first_done:
            trigger = max(t for t in done_times if t <= when)
            phases["workflow_reacts"].append(when - trigger)
    phases["wft_queue"] = wft_waits
    phases["wft_run"] = wft_runs
    return dict(phases)


def describe_phases(phases: dict[str, list[float]]) -> list[str]:
    lines = []
    for name, values in phases.items():
        if values:
            lines.append(
                f"{name:<20} p50 {1000 * p50(values):6.1f} ms  p95 {1000 * p95(values):6.1f} ms"
                f"  mean {1000 * statistics.fmean(values):6.1f} ms  (n={len(values)})"
            )
    return lines
