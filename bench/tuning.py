"""Tuning experiments: efficiency_short under variants of the dev server and worker setup.

    python -m bench.tuning [--trials N] [--rounds R] [--variant NAME ...] [--profile]
    python -m bench.tuning --first-request [--rounds R] [--variant NAME ...]
    python -m bench.tuning --many-jobs [--rounds R] [--variant NAME ...]
    python -m bench.tuning --bare [--trials N] [--rounds R]

Each variant gets a fresh service (bench.service) that differs from the shipped configuration
only as named below, a warm-up job, then `trials` short jobs (M = 200, L = 0.1 s, C = 10); it
prints E of each, the median, the per-chunk phases of the last and the CPU each process used.
With --rounds R the variants take turns R times, so a machine that gets busier or quieter
meanwhile (other sessions' tests) biases no variant; a summary closes the run.
With --profile the worker of each variant is profiled over its trials (cProfile of its event
loop thread) and the functions with the most own time are printed. Nothing is written to the
results: these are experiments; bench/README.md records what they found.

With --bare, the bare Temporal workflow of bench.bare_temporal replays one short job's requests
in each of BARE_SHAPES (the service's chunk activity options, one at a time), taking turns,
`trials` runs per shape and round, and prints E and the CPU per chunk of each shape.

With --split K, K short jobs run at once, each with a window of C / K, so the same C calls are
in flight as in one job but spread over K workflows.

The postgresql variants need an empty database of their own (`createdb playparse_bench`, or
PLAYPARSE_BENCH_POSTGRES_URL).

With --first-request the variants are compared on bench.first_request instead (20 jobs one
after another, submit to the first LLM request), with --many-jobs on bench.many_jobs (20 plays
at once, provider concurrency 8, L = 0.5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import pstats
import statistics
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import first_request, many_jobs
from bench.bare_temporal import bare_reference
from bench.efficiency import (
    SHORT_CHUNK_SIZE,
    SHORT_CONCURRENCY,
    SHORT_LATENCY_S,
    per_chunk_ms,
    run_job,
    warm_up,
)
from bench.harness import EXAMPLE_PLAY, p50, p95
from bench.procstat import CpuMeter, thread_cpu_seconds
from bench.service import ServiceOptions, profiling, service_stack
from bench.timeline import (
    calls_of,
    chunk_phases,
    describe_phases,
    handover_gaps,
    makespan,
    wall_offset,
)

WAL_OFF_SYNC = ["journal_mode=wal", "synchronous=0"]
# The dev server's shipped settings (playparse/devstack.py) switched back to Temporal's
# defaults: transfer tasks read at most 20 times a second per shard, no eager dispatch.
NO_EAGER = {"system.enableActivityEagerExecution": "false"}
TRANSFER_RPS_20 = {"history.transferProcessorMaxPollRPS": "20"}
POLLERS = {"max_concurrent_activity_task_polls": 10, "max_concurrent_workflow_task_polls": 10}

# An empty database of its own (createdb playparse_bench), on the machine's PostgreSQL.
BENCH_POSTGRES_URL = os.environ.get(
    "PLAYPARSE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/playparse_bench"
)

VARIANTS: dict[str, ServiceOptions] = {
    "baseline": ServiceOptions(),
    "no-eager-dispatch": ServiceOptions(dynamic_config=NO_EAGER),
    "transfer-poll-rps-20": ServiceOptions(dynamic_config=TRANSFER_RPS_20),
    "temporal-defaults": ServiceOptions(dynamic_config={**TRANSFER_RPS_20, **NO_EAGER}),
    "llm-extra-slots-0": ServiceOptions(llm_extra_slots=0),
    "llm-extra-slots-8": ServiceOptions(llm_extra_slots=8),
    "asyncio-loop": ServiceOptions(worker_options={"asyncio_loop": True}),
    "postgresql": ServiceOptions(database_url=BENCH_POSTGRES_URL),
    "postgresql-two-workers": ServiceOptions(database_url=BENCH_POSTGRES_URL, workers=2),
    "two-workers": ServiceOptions(workers=2),
    "switch-interval-1ms": ServiceOptions(worker_options={"switch_interval": 0.001}),
    "sqlite-synchronous-off": ServiceOptions(sqlite_pragmas=WAL_OFF_SYNC),
    "sqlite-memory-journal": ServiceOptions(sqlite_pragmas=["journal_mode=memory"]),
    "pollers-10": ServiceOptions(worker_options=POLLERS),
    "pollers-2": ServiceOptions(
        worker_options={
            "max_concurrent_activity_task_polls": 2,
            "max_concurrent_workflow_task_polls": 2,
        }
    ),
    "pollers-autoscaling": ServiceOptions(worker_options={"autoscaling_pollers": True}),
    "unsandboxed": ServiceOptions(worker_options={"unsandboxed": True}),
    "db-pool-1": ServiceOptions(worker_options={"db_pool_size": 1}),
    "db-pool-3": ServiceOptions(worker_options={"db_pool_size": 3}),
    "db-pool-16": ServiceOptions(worker_options={"db_pool_size": 16}),
    "server-gogc-400": ServiceOptions(server_env={"GOGC": "400"}),
    "worker-gc-freeze": ServiceOptions(
        worker_options={"gc_freeze": True, "gc_threshold": [10000, 20, 20]}
    ),
    "no-eager-activities": ServiceOptions(
        worker_options={"disable_eager_activity_execution": True}
    ),
}


# The bare workflow of bench.bare_temporal, given one part of the service's chunk activities
# at a time (--bare): which of them costs the Temporal server what.
BARE_SHAPES: dict[str, dict[str, Any]] = {
    "bare": {},
    "own-queue": {"own_queue": True},
    "heartbeat-timeout": {"heartbeat_s": 10.0},
    "priority": {"priority": 3},
    "all-three": {"own_queue": True, "heartbeat_s": 10.0, "priority": 3},
}


@dataclass
class Outcome:
    efficiencies: list[float] = field(default_factory=list)
    # CPU seconds used by other processes on the machine per second of measurement.
    others: list[float] = field(default_factory=list)


async def trial_variant(
    name: str, options: ServiceOptions, trials: int, profile: bool, outcome: Outcome
) -> None:
    options = replace(options, llm_calls=max(options.llm_calls, SHORT_CONCURRENCY))
    play = EXAMPLE_PLAY.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        if profile:
            options.profile = Path(tmp) / "worker.prof"
        async with service_stack(options) as service:
            await warm_up(service, play)
            pids = {
                **{f"worker {i}": w.pid for i, w in enumerate(service.workers)},
                "temporal": service.temporal_pid,
                "fake": service.fake.pid,
                "bench+API": os.getpid(),
            }
            efficiencies = []
            threads_before = thread_cpu_seconds(service.worker.pid)
            with CpuMeter(pids) as cpu:
                for _ in range(trials):
                    if profile:
                        with profiling(service):
                            run = await _short(service, play)
                    else:
                        run = await _short(service, play)
                    efficiencies.append(run.span.efficiency)
            threads = thread_cpu_seconds(service.worker.pid)
            phases = await chunk_phases(service.temporal, run.job_id, run.calls, wall_offset())
        outcome.efficiencies += efficiencies
        outcome.others.append(cpu.others / cpu.wall)
        print(
            f"{name}: E = {', '.join(f'{e:.3f}' for e in efficiencies)}; "
            f"median {statistics.median(efficiencies):.3f}"
        )
        phases = {"handover (log)": handover_gaps(run.calls, SHORT_CONCURRENCY), **phases}
        for line in describe_phases(phases):
            print(f"    {line}")
        print(f"    {cpu.describe()}")
        by_thread = {k: v - threads_before.get(k, 0.0) for k, v in threads.items()}
        print(
            "    worker threads: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(by_thread.items()) if v >= 0.01)
        )
        if profile and options.profile is not None:
            print(_top(options.profile))


async def first_request_variant(name: str, options: ServiceOptions, outcome: Outcome) -> None:
    latencies = await first_request.measure(first_request.JOBS, options)
    outcome.efficiencies.append(p95(latencies))
    print(
        f"{name}: first request p50 {p50(latencies):.0f} ms, p95 {p95(latencies):.0f} ms, "
        f"max {max(latencies):.0f} ms"
    )


async def many_jobs_variant(name: str, options: ServiceOptions, outcome: Outcome) -> None:
    rows = {row.name: row.value for row in await many_jobs.measure(replace(options))}
    outcome.efficiencies.append(rows["efficiency_20_jobs"])
    print(
        f"{name}: efficiency_20_jobs {rows['efficiency_20_jobs']:.3f}, "
        f"worker peak {rows['worker_peak_mb']:.0f} MB, failed {rows['jobs_failed_20_jobs']:g}"
    )


async def split_variant(name: str, options: ServiceOptions, jobs: int, outcome: Outcome) -> None:
    """`jobs` short jobs at once, each with a window of C / jobs: the same C calls in flight as
    one job, spread over as many workflows (is one workflow's history the limit?)."""
    options = replace(options, llm_calls=max(options.llm_calls, SHORT_CONCURRENCY))
    play = EXAMPLE_PLAY.read_bytes()
    async with service_stack(options) as service:
        await warm_up(service, play)
        await service.configure_fake(latency=SHORT_LATENCY_S, concurrency=SHORT_CONCURRENCY)
        submitted = [
            await service.submit(
                play,
                filename=f"play-{i}.txt",
                concurrency=SHORT_CONCURRENCY // jobs,
                chunk_size=SHORT_CHUNK_SIZE,
            )
            for i in range(jobs)
        ]
        ended = await service.wait_final([each.job_id for each in submitted])
        failed = [job_id for job_id, job in ended.items() if job["status"] != "completed"]
        if failed:
            raise RuntimeError(f"jobs that did not complete: {', '.join(failed)}")
        span = makespan(calls_of(await service.fake_log()), SHORT_CONCURRENCY, SHORT_LATENCY_S)
    outcome.efficiencies.append(span.efficiency)
    print(f"{name}, {jobs} jobs of window {SHORT_CONCURRENCY // jobs}: {span.describe()}")


async def bare_shapes(options: ServiceOptions, trials: int, rounds: int) -> None:
    """The bare workflow in each of BARE_SHAPES, taking turns, on one service's dev server."""
    options = replace(options, llm_calls=max(options.llm_calls, SHORT_CONCURRENCY))
    play = EXAMPLE_PLAY.read_bytes()
    efficiencies: dict[str, list[float]] = {name: [] for name in BARE_SHAPES}
    async with service_stack(options) as service:
        await warm_up(service, play)
        await _short(service, play)
        async with bare_reference(service) as reference:
            meters = {
                name: CpuMeter({"worker": reference.pid, "temporal": service.temporal_pid})
                for name in BARE_SHAPES
            }
            for _ in range(rounds):
                for name, shape in BARE_SHAPES.items():
                    for _ in range(trials):
                        with meters[name]:
                            span = await reference.run(
                                window=SHORT_CONCURRENCY, latency=SHORT_LATENCY_S, **shape
                            )
                        efficiencies[name].append(span.efficiency)
    print("\nsummary (median E; CPU per chunk of the bare worker and the Temporal server):")
    for name, values in efficiencies.items():
        print(
            f"  {name:<20} E {statistics.median(values):.3f} "
            f"(min {min(values):.3f}, max {max(values):.3f}, n={len(values)}); "
            + per_chunk_ms(meters[name], len(values) * reference.chunks)
        )


async def _short(service, play):  # type: ignore[no-untyped-def]
    return await run_job(
        service,
        play,
        concurrency=SHORT_CONCURRENCY,
        chunk_size=SHORT_CHUNK_SIZE,
        latency=SHORT_LATENCY_S,
    )


AREAS = (
    ("sqlalchemy", "sqlalchemy"),
    ("aiosqlite", "aiosqlite"),
    ("openai", "openai"),
    ("httpx/httpcore", "http"),
    ("temporalio sandbox", "workflow_sandbox"),
    ("temporalio", "temporalio"),
    ("pydantic", "pydantic"),
    ("json", "/json/"),
    ("asyncio", "asyncio"),
    ("playparse+activities", "/work/main/"),
)


def _areas(stats: pstats.Stats) -> str:
    """Own time of the profiled thread summed by library, busy time only (epoll waits apart)."""
    totals: dict[str, float] = {}
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        if "epoll" in function or "select" in function and filename == "~":
            area = "idle (epoll)"
        else:
            area = next((name for name, marker in AREAS if marker in filename), "other")
            if filename == "~":
                area = "builtins"
        totals[area] = totals.get(area, 0.0) + own
    busy = sum(v for k, v in totals.items() if k != "idle (epoll)")
    lines = [f"profiled thread: {busy:.2f} s busy, {totals.get('idle (epoll)', 0):.2f} s idle"]
    for area, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        if area != "idle (epoll)":
            lines.append(f"  {area:<22} {seconds:6.2f} s  {seconds / busy:5.1%}")
    return "\n".join(lines)


def _top(path: Path, count: int = 35) -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    out.write(_areas(stats) + "\n")
    stats.sort_stats("tottime").print_stats(count)
    stats.sort_stats("cumulative").print_stats(count)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tuning", description=__doc__)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS), default=None)
    parser.add_argument("--rounds", type=int, default=1, help="variants are interleaved")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--first-request", action="store_true")
    parser.add_argument("--many-jobs", action="store_true")
    parser.add_argument(
        "--split", type=int, default=None, metavar="K", help="K jobs at once, window C/K each"
    )
    parser.add_argument(
        "--bare", action="store_true", help="the bare Temporal workflow in each of BARE_SHAPES"
    )
    args = parser.parse_args()
    if args.bare:
        variant = VARIANTS[(args.variant or ["baseline"])[0]]
        asyncio.run(bare_shapes(variant, args.trials, args.rounds))
        return
    names = args.variant or list(VARIANTS)
    outcomes = {name: Outcome() for name in names}
    for _ in range(args.rounds):
        for name in names:
            if args.first_request:
                asyncio.run(first_request_variant(name, VARIANTS[name], outcomes[name]))
            elif args.many_jobs:
                asyncio.run(many_jobs_variant(name, VARIANTS[name], outcomes[name]))
            elif args.split:
                asyncio.run(split_variant(name, VARIANTS[name], args.split, outcomes[name]))
            else:
                asyncio.run(
                    trial_variant(name, VARIANTS[name], args.trials, args.profile, outcomes[name])
                )
    if args.first_request or args.many_jobs or args.split:
        what = "p95 of each round, ms" if args.first_request else "E of each round"
        print(f"\nsummary ({what}):")
        for name, outcome in outcomes.items():
            print(f"  {name:<28} " + ", ".join(f"{v:.3g}" for v in outcome.efficiencies))
        return
    print("\nsummary (median E over all trials; other processes' CPU in cores, mean):")
    for name, outcome in outcomes.items():
        print(
            f"  {name:<24} E {statistics.median(outcome.efficiencies):.3f} "
            f"(min {min(outcome.efficiencies):.3f}, max {max(outcome.efficiencies):.3f}, "
            f"n={len(outcome.efficiencies)}); others {statistics.fmean(outcome.others):.2f}"
        )


if __name__ == "__main__":
    main()
