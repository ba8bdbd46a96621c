"""Run every benchmark in one go (`python -m bench`), merging each one's rows into the results.

Each benchmark's rows are written as soon as it finishes, so a later failure keeps them.
`--only NAME` runs some of them (names as the modules: parser_speed, control_latency,
efficiency, throughput, first_request, many_jobs).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from bench import (
    control_latency,
    efficiency,
    first_request,
    many_jobs,
    parser_speed,
    throughput,
)
from bench.harness import RESULTS_DIR, Row, write_results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--trials", type=int, default=control_latency.TRIALS)
    parser.add_argument(
        "--delay", type=float, default=control_latency.DELAY_S, help="seconds per provider call"
    )
    parser.add_argument("--only", action="append", default=None, metavar="NAME")
    args = parser.parse_args()
    benchmarks: dict[str, Callable[[], list[Row]]] = {
        "parser_speed": parser_speed.run,
        "control_latency": lambda: control_latency.run(args.trials, args.delay),
        "efficiency": efficiency.run,
        "throughput": throughput.run,
        "first_request": first_request.run,
        "many_jobs": many_jobs.run,
    }
    unknown = set(args.only or ()) - set(benchmarks)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}")
    started = time.monotonic()
    # Other work on the machine slows every figure here; the load average says how much.
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, run in benchmarks.items():
        if args.only is None or name in args.only:
            began = time.monotonic()
            write_results(run())
            print(f"  ({name}: {time.monotonic() - began:.0f} s)\n")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"results: {RESULTS_DIR / 'latest.json'} and latest.md "
        f"({time.monotonic() - started:.0f} s in all)"
    )


if __name__ == "__main__":
    main()
