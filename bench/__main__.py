"""Run every benchmark in one go (`python -m bench`), merging each one's rows into the results.

Each benchmark's rows are written as soon as it finishes, so a later failure keeps them.
"""

from __future__ import annotations

import argparse
import time

from bench import control_latency, parser_speed
from bench.harness import RESULTS_DIR, write_results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--trials", type=int, default=control_latency.TRIALS)
    parser.add_argument(
        "--delay", type=float, default=control_latency.DELAY_S, help="seconds per provider call"
    )
    args = parser.parse_args()
    started = time.monotonic()
    write_results(parser_speed.run())
    write_results(control_latency.run(args.trials, args.delay))
    print(
        f"results: {RESULTS_DIR / 'latest.json'} and latest.md "
        f"({time.monotonic() - started:.0f} s in all)"
    )


if __name__ == "__main__":
    main()
