"""Makespan efficiency E = T*/T of one job through the real service, against the fake LLM.

T* = ceil(M/C)*L is what M chunk calls of L seconds each, C at a time, need at the least; T runs
from the first chunk request's start to the last one's end, as the fake's log records them.

- efficiency_c1, _c4, _c8: one long play (Emilia Galotti at chunk size 2000: 67 chunks) at
  L = 1 s and job concurrency C = 1, 4, 8; job_seconds_c* is the whole job, submit to completed.
- efficiency_short: M = 200 chunks (chunk size 665), L = 0.1 s, C = 10, where orchestration
  shows: the median E of three such jobs (efficiency_short_min and _max beside it), printed with
  where each chunk's turnaround goes in the median job (Temporal history and the fake's log)
  and the CPU each process used over the three.
- efficiency_short_bare_temporal: after each short job, a bare Temporal workflow sends the 200
  requests of the first short job (read once from the fake's log), 10 at a time, with no
  database or SDK work (bench.bare_temporal); the median of its three runs, and
  efficiency_short_of_bare, the service's figure as a fraction of it.

Each job waits for the previous one to finish; the fake's concurrency limit is C, so a window
that overran it would show as 429s. A small job first warms the worker up, unmeasured.

Run alone with `python -m bench.efficiency [--only long|short]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench.bare_temporal import bare_reference
from bench.harness import EXAMPLE_PLAY, Row, show, write_results
from bench.procstat import CpuMeter
from bench.service import Service, ServiceOptions, service_stack
from bench.timeline import (
    Call,
    Makespan,
    calls_of,
    chunk_phases,
    describe_phases,
    handover_gaps,
    makespan,
    refused,
    wall_offset,
)

LONG_CHUNK_SIZE = 2000
LONG_LATENCY_S = 1.0
CONCURRENCIES = (1, 4, 8)
LONG_TARGET = 0.95

SHORT_CHUNK_SIZE = 665
SHORT_LATENCY_S = 0.1
SHORT_CONCURRENCY = 10
SHORT_TARGET = 0.80
# Short jobs measured; efficiency_short is the median one.
SHORT_JOBS = 3

# The warm-up job: the play's opening, a few chunks.
WARM_UP_CHARS = 8000


@dataclass
class JobRun:
    job_id: str
    job: dict[str, Any]
    calls: list[Call]
    span: Makespan

    @property
    def job_seconds(self) -> float:
        created = datetime.fromisoformat(self.job["created_at"])
        completed = datetime.fromisoformat(self.job["completed_at"])
        return (completed - created).total_seconds()


async def run_job(
    service: Service,
    play: bytes,
    *,
    concurrency: int,
    chunk_size: int,
    latency: float,
    filename: str = "play.txt",
) -> JobRun:
    """One job on its own, the fake limited to `concurrency` calls at `latency` s each."""
    await service.configure_fake(latency=latency, concurrency=concurrency)
    submitted = await service.submit(
        play, filename=filename, concurrency=concurrency, chunk_size=chunk_size
    )
    job = (await service.wait_final([submitted.job_id]))[submitted.job_id]
    if job["status"] != "completed":
        raise RuntimeError(f"{submitted.job_id} ended {job['status']}: {job['error']}")
    calls = calls_of(await service.fake_log())
    if refused(calls):
        print(f"  {refused(calls)} requests of {submitted.job_id} were refused with 429")
    span = makespan(calls, concurrency, latency)
    if span.chunks != job["chunks_total"]:
        print(f"  note: {span.chunks} answered calls for {job['chunks_total']} chunks")
    return JobRun(submitted.job_id, job, calls, span)


def opening(play: bytes, chars: int = WARM_UP_CHARS) -> bytes:
    """The first `chars` characters of a UTF-8 play."""
    return play.decode("utf-8")[:chars].encode("utf-8")


async def warm_up(service: Service, play: bytes) -> None:
    await run_job(service, opening(play), concurrency=4, chunk_size=LONG_CHUNK_SIZE, latency=0.0)


async def measure_long(service: Service, play: bytes) -> list[Row]:
    rows = []
    for concurrency in CONCURRENCIES:
        run = await run_job(
            service,
            play,
            concurrency=concurrency,
            chunk_size=LONG_CHUNK_SIZE,
            latency=LONG_LATENCY_S,
        )
        print(f"  C={concurrency}: {run.span.describe()}; job {run.job_seconds:.2f} s")
        rows += [
            Row(
                f"efficiency_c{concurrency}",
                round(run.span.efficiency, 3),
                "ratio",
                LONG_TARGET,
                "higher",
            ),
            Row(f"job_seconds_c{concurrency}", round(run.job_seconds, 2), "s", None, "lower"),
        ]
    return rows


async def measure_short(service: Service, play: bytes) -> list[Row]:
    """SHORT_JOBS jobs one after another; E is their median, as one job's E varies by about
    0.1 between runs on this machine (each phase is mostly waiting for a busy event loop).

    After each job the same calls go through a bare Temporal workflow (bench.bare_temporal),
    so both figures come from the same minutes of the machine."""
    cpu = CpuMeter(
        {
            "worker": service.worker.pid,
            "temporal": service.temporal_pid,
            "fake LLM": service.fake.pid,
            "bench+API": os.getpid(),
        }
    )

    async def short_job() -> JobRun:
        with cpu:
            run = await run_job(
                service,
                play,
                concurrency=SHORT_CONCURRENCY,
                chunk_size=SHORT_CHUNK_SIZE,
                latency=SHORT_LATENCY_S,
            )
        print(f"  short: {run.span.describe()}; job {run.job_seconds:.2f} s")
        return run

    # The first job's requests, left in the fake's log, are what the bare workflow replays.
    runs = [await short_job()]
    bare: list[Makespan] = []
    async with bare_reference(service) as reference:
        bare_cpu = CpuMeter(
            {
                "bare worker": reference.pid,
                "temporal": service.temporal_pid,
                "fake LLM": service.fake.pid,
                "bench": os.getpid(),
            }
        )
        for turn in range(SHORT_JOBS):
            if turn:
                runs.append(await short_job())
            with bare_cpu:
                span = await reference.run(window=SHORT_CONCURRENCY, latency=SHORT_LATENCY_S)
            print(f"  bare Temporal: {span.describe()}")
            bare.append(span)
    median = sorted(runs, key=lambda run: run.span.efficiency)[len(runs) // 2]
    bare_median = sorted(bare, key=lambda span: span.efficiency)[len(bare) // 2]
    gaps = handover_gaps(median.calls, SHORT_CONCURRENCY)
    phases = await chunk_phases(service.temporal, median.job_id, median.calls, wall_offset())
    phases = {"handover (log)": gaps, **phases}
    print("  phases of the median job:")
    for line in describe_phases(phases):
        print(f"    {line}")
    chunks = sum(run.span.chunks for run in runs)
    print(f"    service: {cpu.describe()}; {per_chunk_ms(cpu, chunks)}")
    bare_chunks = sum(span.chunks for span in bare)
    print(f"    bare Temporal: {bare_cpu.describe()}; {per_chunk_ms(bare_cpu, bare_chunks)}")
    efficiencies = [run.span.efficiency for run in runs]
    of_bare = median.span.efficiency / bare_median.efficiency
    return [
        Row("efficiency_short", round(median.span.efficiency, 3), "ratio", SHORT_TARGET, "higher"),
        Row("efficiency_short_min", round(min(efficiencies), 3), "ratio", None, "higher"),
        Row("efficiency_short_max", round(max(efficiencies), 3), "ratio", None, "higher"),
        Row("job_seconds_short", round(median.job_seconds, 2), "s", None, "lower"),
        Row("short_overhead_ms", round(median.span.overhead_ms, 1), "ms/chunk", None, "lower"),
        Row(
            "efficiency_short_bare_temporal",
            round(bare_median.efficiency, 3),
            "ratio",
            None,
            "higher",
        ),
        Row("efficiency_short_of_bare", round(of_bare, 3), "ratio", None, "higher"),
    ]


def per_chunk_ms(cpu: CpuMeter, chunks: int) -> str:
    """The meter's CPU per chunk, in all and by process."""
    parts = ", ".join(f"{name} {1000 * s / chunks:.1f}" for name, s in cpu.used.items())
    return f"per chunk {1000 * sum(cpu.used.values()) / chunks:.1f} ms ({parts})"


async def measure(only: str | None = None, options: ServiceOptions | None = None) -> list[Row]:
    play = EXAMPLE_PLAY.read_bytes()
    rows: list[Row] = []
    async with service_stack(options or ServiceOptions(llm_calls=SHORT_CONCURRENCY)) as service:
        await warm_up(service, play)
        if only in (None, "long"):
            rows += await measure_long(service, play)
        if only in (None, "short"):
            rows += await measure_short(service, play)
    return rows


def run(only: str | None = None) -> list[Row]:
    """Measure, print and return the rows (the caller writes them)."""
    print("efficiency: one job at a time through the REST API, openai provider on the fake LLM")
    rows = asyncio.run(measure(only))
    show(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.efficiency")
    parser.add_argument("--only", choices=["long", "short"], default=None)
    args = parser.parse_args()
    write_results(run(args.only))


if __name__ == "__main__":
    main()
