"""Orchestration throughput: chunks per second when the LLM answers at once (L = 0).

One job of M = 200 chunks (Emilia Galotti at chunk size 665) with concurrency C = 8 through
the real service; T runs from the first chunk request's start to the last one's end in the
fake's log.

- chunks_per_s = M / T (target ≥ 40);
- chunk_overhead_ms = T / ceil(M/C): how long one window slot takes per chunk when the call
  itself takes no time (the job, its activity and the workflow's turn around it);
- job_seconds_throughput: the whole job, submit to completed (extraction, planning, assembly).

Run alone with `python -m bench.throughput`.
"""

from __future__ import annotations

import asyncio

from bench.efficiency import SHORT_CHUNK_SIZE, run_job, warm_up
from bench.harness import EXAMPLE_PLAY, Row, show, write_results
from bench.service import ServiceOptions, service_stack

CONCURRENCY = 8
CHUNKS_PER_S_TARGET = 40.0


async def measure() -> list[Row]:
    play = EXAMPLE_PLAY.read_bytes()
    async with service_stack(ServiceOptions(llm_calls=CONCURRENCY)) as service:
        await warm_up(service, play)
        run = await run_job(
            service, play, concurrency=CONCURRENCY, chunk_size=SHORT_CHUNK_SIZE, latency=0.0
        )
    span = run.span
    print(f"  {span.describe()}; job {run.job_seconds:.2f} s")
    return [
        Row(
            "chunks_per_s",
            round(span.chunks / span.seconds, 1),
            "chunks/s",
            CHUNKS_PER_S_TARGET,
            "higher",
        ),
        Row("chunk_overhead_ms", round(span.overhead_ms, 1), "ms/chunk", None, "lower"),
        Row("job_seconds_throughput", round(run.job_seconds, 2), "s", None, "lower"),
    ]


def run() -> list[Row]:
    """Measure, print and return the rows (the caller writes them)."""
    print(f"throughput: one job of 200 chunks, C = {CONCURRENCY}, fake LLM answering at once")
    rows = asyncio.run(measure())
    show(rows)
    return rows


def main() -> None:
    write_results(run())


if __name__ == "__main__":
    main()
