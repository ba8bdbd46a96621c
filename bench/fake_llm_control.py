"""Running the fake LLM as a process: the command line and the control API under /_fake.

GET /_fake/stats: counts; GET /_fake/log?since=N: the log from entry N on; GET or POST
/_fake/config: latency, concurrency and rate (POST any of them); POST /_fake/script: a list of
script entries (Reply fields; `when` only as a marker string), appended; POST /_fake/reset:
forget the log and the script.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.fake_llm_script import Reply

if TYPE_CHECKING:
    from bench.fake_llm import FakeLLM

SETTINGS = ("latency", "concurrency", "rate")


def control_routes(fake: FakeLLM) -> list[Route]:
    async def stats(request: Request) -> Response:
        return JSONResponse(
            {
                "requests": len(fake.log),
                "in_flight": fake.in_flight,
                "peak_in_flight": fake.peak_in_flight,
                "limited": len(fake.log.limited),
                "script": len(fake.script),
            }
        )

    async def log(request: Request) -> Response:
        since = int(request.query_params.get("since", "0"))
        return JSONResponse([exchange.to_json() for exchange in fake.log.entries[since:]])

    async def config(request: Request) -> Response:
        if request.method == "POST":
            changes = await request.json()
            for key in SETTINGS:
                if key in changes:
                    setattr(fake, key, changes[key])
        return JSONResponse({key: getattr(fake, key) for key in SETTINGS})

    async def script(request: Request) -> Response:
        try:
            replies = [Reply.from_json(entry) for entry in await request.json()]
        except (TypeError, ValueError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        fake.add(*replies)
        return JSONResponse([entry.to_json() for entry in fake.script.entries])

    async def reset(request: Request) -> Response:
        fake.clear()
        return JSONResponse({"requests": 0})

    return [
        Route("/_fake/stats", stats, methods=["GET"]),
        Route("/_fake/log", log, methods=["GET"]),
        Route("/_fake/config", config, methods=["GET", "POST"]),
        Route("/_fake/script", script, methods=["POST"]),
        Route("/_fake/reset", reset, methods=["POST"]),
    ]


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.fake_llm`: serve until SIGINT or SIGTERM."""
    from bench.fake_llm import __doc__ as about

    parser = argparse.ArgumentParser(prog="python -m bench.fake_llm", description=about)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 takes a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=None, help="requests at once")
    parser.add_argument("--rate", type=float, default=None, help="requests per second")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
    )
    asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> None:
    from bench.fake_llm import FakeLLM

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    fake = FakeLLM(
        latency=args.latency,
        concurrency=args.concurrency,
        rate=args.rate,
        host=args.host,
        port=args.port,
    )
    async with fake:
        # One line a supervising process can wait for and read the addresses from.
        print(
            f"fake LLM ready: openai={fake.base_url_openai} "
            f"anthropic={fake.base_url_anthropic} control={fake.base_url}/_fake",
            flush=True,
        )
        await stop.wait()
