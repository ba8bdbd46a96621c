"""Submit to first provider request: POST /api/jobs to the fake LLM's first request of the job.

The jobs go one after another (each waits for the previous one to complete), so the service is
idle when each is posted and the fake's first request after the POST is that job's: the figure
is the path a job takes before its first chunk call (the API's insert and workflow start, the
workflow's first tasks, extraction, planning, the state records between them, the chunk
activity's own reads), not queueing behind other work. Each job is the opening of a play
(its first 8,000 characters: four chunks at chunk size 2000), the plays in turn; one
unmeasured job goes first.

- first_request_p50_ms, first_request_p95_ms (target ≤ 300 ms), first_request_max_ms.

Run alone with `python -m bench.first_request [--jobs N]`.
"""

from __future__ import annotations

import argparse
import asyncio

from bench.efficiency import LONG_CHUNK_SIZE, opening, warm_up
from bench.harness import EXAMPLE_PLAY, Row, p50, p95, show, write_results
from bench.many_jobs import plays
from bench.service import Service, ServiceOptions, service_stack
from bench.timeline import calls_of

JOBS = 20
LATENCY_S = 0.05
TARGET_MS = 300.0


async def first_request_ms(service: Service, name: str, play: bytes) -> float:
    await service.configure_fake(latency=LATENCY_S, concurrency=None)
    submitted = await service.submit(
        opening(play), filename=name, concurrency=4, chunk_size=LONG_CHUNK_SIZE
    )
    job = (await service.wait_final([submitted.job_id]))[submitted.job_id]
    if job["status"] != "completed":
        raise RuntimeError(f"{submitted.job_id} ended {job['status']}: {job['error']}")
    calls = calls_of(await service.fake_log())
    first = min(call.started for call in calls)
    return 1000 * (first - submitted.posted)


async def measure(jobs: int = JOBS, options: ServiceOptions | None = None) -> list[float]:
    async with service_stack(options or ServiceOptions()) as service:
        await warm_up(service, EXAMPLE_PLAY.read_bytes())
        sources = plays()
        return [await first_request_ms(service, *sources[i % len(sources)]) for i in range(jobs)]


def run(jobs: int = JOBS) -> list[Row]:
    """Measure, print and return the rows (the caller writes them)."""
    print(f"first request: {jobs} jobs one after another, submit to the first LLM request")
    latencies = asyncio.run(measure(jobs))
    print(f"  ms: {', '.join(f'{ms:.0f}' for ms in latencies)}")
    rows = [
        Row("first_request_p50_ms", round(p50(latencies), 1), "ms", None, "lower"),
        Row("first_request_p95_ms", round(p95(latencies), 1), "ms", TARGET_MS, "lower"),
        Row("first_request_max_ms", round(max(latencies), 1), "ms", None, "lower"),
    ]
    show(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.first_request")
    parser.add_argument("--jobs", type=int, default=JOBS)
    args = parser.parse_args()
    write_results(run(args.jobs))


if __name__ == "__main__":
    main()
