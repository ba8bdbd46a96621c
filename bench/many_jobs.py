"""Twenty plays submitted at once against a provider that takes 8 calls at a time.

The fake LLM answers in L = 0.5 s and refuses a ninth concurrent call with 429; the worker runs
at most 8 LLM calls at once (max_concurrent_llm_calls = 8). The 20 jobs (the shared plays and
the example, in turn, chunk size 6000, the API's default concurrency of 4 each) are posted
together through the REST API.

- efficiency_20_jobs: E = T*/T with T* = ceil(N/8)*L for all N chunks, T from the first chunk
  request's start to the last one's end (target ≥ 0.85);
- jobs_failed_20_jobs: jobs that did not complete (target 0: no 429 may reach a job as a
  failure); rate_limited_20_jobs: the 429s the fake sent (reported);
- worker_peak_mb: the worker process's peak resident memory (VmHWM, and its process tree
  sampled every 50 ms) over its whole life, the 20 jobs included (target ≤ 500 MB);
- jobs_seconds_20_jobs: from the first POST to the last job completed.

Run alone with `python -m bench.many_jobs`.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime

from bench.efficiency import warm_up
from bench.harness import EXAMPLE_PLAY, SHARED_PLAYS, Row, show, write_results
from bench.procstat import PeakSampler
from bench.service import ServiceOptions, service_stack
from bench.timeline import answered, calls_of, idle_thirds, makespan, refused

JOBS = 20
PROVIDER_CONCURRENCY = 8
LATENCY_S = 0.5
CHUNK_SIZE = 6000
JOB_CONCURRENCY = 4
EFFICIENCY_TARGET = 0.85
PEAK_MB_TARGET = 500.0


def plays() -> list[tuple[str, bytes]]:
    """The plays submitted, by file name: the shared ones and the example, in turn."""
    sources = [*sorted(SHARED_PLAYS.glob("*/play*.txt")), EXAMPLE_PLAY]
    chosen = []
    for i in range(JOBS):
        path = sources[i % len(sources)]
        chosen.append((f"{i:02d}-{path.parent.name}-{path.name}", path.read_bytes()))
    return chosen


async def measure(options: ServiceOptions | None = None) -> list[Row]:
    options = options or ServiceOptions()
    options.llm_calls = PROVIDER_CONCURRENCY
    async with service_stack(options) as service:
        await warm_up(service, EXAMPLE_PLAY.read_bytes())
        await service.configure_fake(latency=LATENCY_S, concurrency=PROVIDER_CONCURRENCY)
        async with PeakSampler(service.worker.pid) as memory:
            submitted = await asyncio.gather(
                *(
                    service.submit(
                        play, filename=name, concurrency=JOB_CONCURRENCY, chunk_size=CHUNK_SIZE
                    )
                    for name, play in plays()
                )
            )
            jobs = await service.wait_final([s.job_id for s in submitted])
        calls = calls_of(await service.fake_log())
    chunks = sum(job["chunks_total"] for job in jobs.values())
    failed = [job for job in jobs.values() if job["status"] != "completed"]
    for job in failed:
        print(f"  {job['id']} ({job['filename']}) ended {job['status']}: {job['error']}")
    span = makespan(calls, PROVIDER_CONCURRENCY, LATENCY_S)
    created = min(datetime.fromisoformat(job["created_at"]) for job in jobs.values())
    completed = max(datetime.fromisoformat(job["completed_at"]) for job in jobs.values())
    print(
        f"  {len(jobs)} jobs, {chunks} chunks, {len(answered(calls))} answered calls, "
        f"{refused(calls)} refused with 429; {span.describe()}"
    )
    first, middle, last = idle_thirds(calls, PROVIDER_CONCURRENCY)
    print(
        f"  provider places idle: {first:.1f} / {middle:.1f} / {last:.1f} slot-seconds in the "
        "first / middle / last third"
    )
    print(
        f"  T* = ceil({chunks}/{PROVIDER_CONCURRENCY}) x {LATENCY_S:g} s = "
        f"{math.ceil(chunks / PROVIDER_CONCURRENCY) * LATENCY_S:.1f} s; "
        f"worker peak {memory.peak_mb:.0f} MB"
    )
    return [
        Row("efficiency_20_jobs", round(span.efficiency, 3), "ratio", EFFICIENCY_TARGET, "higher"),
        Row("jobs_failed_20_jobs", len(failed), "jobs", 0, "lower"),
        Row("rate_limited_20_jobs", refused(calls), "429s", None, "lower"),
        Row("jobs_seconds_20_jobs", round((completed - created).total_seconds(), 2), "s"),
        Row("worker_peak_mb", round(memory.peak_mb, 1), "MB", PEAK_MB_TARGET, "lower"),
    ]


def run() -> list[Row]:
    """Measure, print and return the rows (the caller writes them)."""
    print(
        f"many jobs: {JOBS} plays at once, provider concurrency {PROVIDER_CONCURRENCY}, "
        f"L = {LATENCY_S:g} s"
    )
    rows = asyncio.run(measure())
    show(rows)
    return rows


def main() -> None:
    write_results(run())


if __name__ == "__main__":
    main()
