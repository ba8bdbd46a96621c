"""How fast cancel and pause take effect on a running job, through the real REST API.

A slow provider stands in for an LLM: every chunk call sleeps, recording when it starts and when
it is cancelled. Each trial submits a new job, waits until a chunk call is in flight and then,
at a random moment within the next two heartbeat periods, asks for the action:

- cancel latency: from sending POST /cancel to the moment the in-flight provider call is
  abandoned (the provider sees CancelledError). The call would sleep CANCEL_CALL_S, so it is
  always still running when the cancel reaches it.
- pause latency: from sending POST /pause to its 202, the update's acknowledgement: the workflow
  has then set its flag and starts no further chunk. Afterwards the trial waits until the job
  shows `paused` (the in-flight call of `delay` seconds finishes first) and checks that at most
  the one chunk already scheduled started after the 202; more is a violation.

Run alone with `python -m bench.control_latency [--trials N] [--delay S]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from bench.harness import EXAMPLE_PLAY, Row, Stack, embedded_stack, p50, p95, show, write_results
from playparse import heuristic
from playparse.llm.base import ProviderResult, Providers
from playparse.schema import ChunkContext

TRIALS = 20
# How long a provider call takes in the pause trials (the in-flight chunk runs to its end).
DELAY_S = 3.0
# How long a call would take in the cancel trials; the cancel always cuts it short.
CANCEL_CALL_S = 30.0
# The action is sent this long into a call, at random: two heartbeat periods of the activity.
OFFSET_S = (0.05, 2.0)
# How long after the job shows `paused` the trial keeps watching for chunks that start.
PAUSE_WATCH_S = 1.0

CANCEL_TARGET_S = 2.0
PAUSE_TARGET_S = 0.5


@dataclass
class Call:
    index: int
    started: float
    cancelled: float | None = None
    finished: float | None = None


@dataclass
class SlowProvider:
    """The heuristic parser behind a sleep of `delay` seconds, recording every call.

    It is registered as `heuristic` because the API accepts only the providers it knows.
    """

    delay: float = DELAY_S
    name: str = "heuristic"
    calls: list[Call] = field(default_factory=list)

    async def parse_chunk(
        self, text: str, context: ChunkContext, *, model: str | None
    ) -> ProviderResult:
        call = Call(context.index, time.monotonic())
        self.calls.append(call)
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            call.cancelled = time.monotonic()
            raise
        call.finished = time.monotonic()
        return ProviderResult(parse=heuristic.parse_chunk(text, context))

    def in_flight(self) -> Call | None:
        if self.calls and self.calls[-1].cancelled is None and self.calls[-1].finished is None:
            return self.calls[-1]
        return None


@dataclass
class Figures:
    cancel_s: list[float] = field(default_factory=list)
    pause_s: list[float] = field(default_factory=list)
    # Trials where more chunks started after the pause's 202 than the one already scheduled.
    pause_violations: list[str] = field(default_factory=list)


async def until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def job_status(stack: Stack, job_id: str) -> str:
    response = await stack.http.get(f"/api/jobs/{job_id}")
    response.raise_for_status()
    status: str = response.json()["status"]
    return status


async def start_job_with_call_in_flight(
    stack: Stack, provider: SlowProvider, play: bytes
) -> tuple[str, Call]:
    """Submit a job and return once its first provider call is running."""
    provider.calls.clear()
    response = await stack.http.post(
        "/api/jobs", files={"file": (EXAMPLE_PLAY.name, play, "text/plain")}
    )
    if response.status_code != 202:
        raise RuntimeError(f"submit answered {response.status_code}: {response.text}")
    job_id: str = response.json()["id"]

    async def in_flight() -> Call | None:
        return provider.in_flight()

    call: Call = await until(in_flight, 30, f"a chunk of {job_id} to start")
    return job_id, call


async def sleep_into(call: Call, rng: random.Random) -> None:
    offset = rng.uniform(*OFFSET_S)
    await asyncio.sleep(max(0.0, call.started + offset - time.monotonic()))


async def wait_final(stack: Stack, job_id: str) -> str:
    async def final() -> str | None:
        status = await job_status(stack, job_id)
        return status if status in ("completed", "failed", "cancelled") else None

    status: str = await until(final, 30, f"{job_id} to finish")
    return status


async def cancel_trial(
    stack: Stack, provider: SlowProvider, play: bytes, rng: random.Random
) -> float:
    provider.delay = CANCEL_CALL_S
    job_id, call = await start_job_with_call_in_flight(stack, provider, play)
    await sleep_into(call, rng)
    asked = time.monotonic()
    response = await stack.http.post(f"/api/jobs/{job_id}/cancel")
    if response.status_code != 202:
        raise RuntimeError(f"cancel answered {response.status_code}: {response.text}")

    async def abandoned() -> bool:
        return call.cancelled is not None

    await until(abandoned, 30, f"the provider call of {job_id} to be abandoned")
    if (status := await wait_final(stack, job_id)) != "cancelled":
        raise RuntimeError(f"{job_id} ended {status}, not cancelled")
    assert call.cancelled is not None
    return call.cancelled - asked


async def pause_trial(
    stack: Stack, provider: SlowProvider, play: bytes, rng: random.Random, delay: float
) -> tuple[float, str | None]:
    """The pause latency, and a description of the violation if chunks started after it."""
    provider.delay = delay
    job_id, call = await start_job_with_call_in_flight(stack, provider, play)
    await sleep_into(call, rng)
    asked = time.monotonic()
    response = await stack.http.post(f"/api/jobs/{job_id}/pause")
    acknowledged = time.monotonic()
    if response.status_code != 202:
        raise RuntimeError(f"pause answered {response.status_code}: {response.text}")

    async def paused() -> bool:
        return await job_status(stack, job_id) == "paused"

    await until(paused, delay + 30, f"{job_id} to show paused")
    await asyncio.sleep(PAUSE_WATCH_S)
    late = [c for c in provider.calls if c.started > acknowledged]
    violation = None
    if len(late) > 1:
        violation = f"{job_id}: {len(late)} chunks started after the pause was acknowledged"
    response = await stack.http.post(f"/api/jobs/{job_id}/cancel")
    if response.status_code != 202 or await wait_final(stack, job_id) != "cancelled":
        raise RuntimeError(f"could not cancel the paused job {job_id}")
    return acknowledged - asked, violation


async def measure(trials: int = TRIALS, delay: float = DELAY_S, seed: int = 1) -> Figures:
    provider = SlowProvider(delay)
    play = EXAMPLE_PLAY.read_bytes()
    rng = random.Random(seed)
    figures = Figures()
    async with embedded_stack(Providers({provider.name: provider})) as stack:
        # One job of each kind first, not counted: the first workflow and requests warm up.
        await cancel_trial(stack, provider, play, rng)
        await pause_trial(stack, provider, play, rng, delay)
        for _ in range(trials):
            figures.cancel_s.append(await cancel_trial(stack, provider, play, rng))
        for _ in range(trials):
            latency, violation = await pause_trial(stack, provider, play, rng, delay)
            figures.pause_s.append(latency)
            if violation:
                figures.pause_violations.append(violation)
    return figures


def rows_of(figures: Figures) -> list[Row]:
    return [
        Row("cancel_p50_s", round(p50(figures.cancel_s), 3), "s", None, "lower"),
        Row("cancel_p95_s", round(p95(figures.cancel_s), 3), "s", CANCEL_TARGET_S, "lower"),
        Row("pause_p50_s", round(p50(figures.pause_s), 3), "s", None, "lower"),
        Row("pause_p95_s", round(p95(figures.pause_s), 3), "s", PAUSE_TARGET_S, "lower"),
        Row("pause_violations", len(figures.pause_violations), "trials", 0, "lower"),
    ]


def run(trials: int = TRIALS, delay: float = DELAY_S) -> list[Row]:
    """Measure, print and return the rows (the caller writes them)."""
    print(f"control latency: {trials} cancel and {trials} pause trials, provider call {delay:g} s")
    figures = asyncio.run(measure(trials, delay))
    for label, values in (("cancel", figures.cancel_s), ("pause", figures.pause_s)):
        print(
            f"  {label}: min {min(values):.3f} s, p50 {p50(values):.3f} s, "
            f"p95 {p95(values):.3f} s, max {max(values):.3f} s"
        )
    for violation in figures.pause_violations:
        print(f"  pause violation: {violation}")
    rows = rows_of(figures)
    show(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.control_latency")
    parser.add_argument("--trials", type=int, default=TRIALS)
    parser.add_argument("--delay", type=float, default=DELAY_S, help="seconds per provider call")
    args = parser.parse_args()
    write_results(run(args.trials, args.delay))


if __name__ == "__main__":
    main()
