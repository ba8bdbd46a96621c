"""A fake LLM server speaking the OpenAI Chat Completions and Anthropic Messages wire formats.

It answers `POST /v1/chat/completions` and `POST /v1/messages` the way the official SDKs expect,
with a computed answer: the offline parser's reading of the document in the prompt, as JSON
matching `playparse.llm.prompt.ChunkOutput`. Around that: a latency per request, optional
concurrency and rate limits answered with 429 and retry-after, a script of faults (see
bench.fake_llm_script), and a log of every request.

In process::

    async with FakeLLM(latency=1.0, concurrency=8, rate=50) as llm:
        client = openai.AsyncOpenAI(base_url=llm.base_url_openai, api_key="x", max_retries=0)
        llm.add(status(429, retry_after=2), hang(), truncated(protocol="anthropic"))
        ...
        assert llm.log.count(protocol="openai", status=429) == 1

As a process: `python -m bench.fake_llm --port 8765 --latency 1.0 --concurrency 8 --rate 50`,
steered over HTTP under /_fake (bench.fake_llm_control).

Files: fake_llm_wire (both wire formats), fake_llm_script (script entries and the request
log), fake_llm_limits (concurrency and rate), fake_llm_control (command line, control API).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
import socket
import time
from collections.abc import Iterable, Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench import fake_llm_wire as wire
from bench.fake_llm_control import control_routes
from bench.fake_llm_limits import Admission, Refusal
from bench.fake_llm_script import (
    Exchange,
    Reply,
    RequestLog,
    Script,
    empty,
    filtered,
    hang,
    invalid,
    malformed,
    ok,
    raw,
    refused,
    status,
    truncated,
)
from bench.fake_llm_wire import Protocol

__all__ = [
    "Exchange",
    "FakeLLM",
    "Reply",
    "RequestLog",
    "empty",
    "filtered",
    "hang",
    "invalid",
    "malformed",
    "ok",
    "raw",
    "refused",
    "status",
    "truncated",
]

log = logging.getLogger("bench.fake_llm")

_CACHE_SIZE = 512


class _Server(uvicorn.Server):
    """Uvicorn without signal handlers of its own: whoever embeds it owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class FakeLLM:
    """The fake server; `latency`, `concurrency` and `rate` may be changed while it runs.

    Args:
        latency: seconds each answer takes (the offline parse included).
        concurrency: requests answered at once; one more gets 429. None: no limit.
        rate: requests admitted in any sliding 1 s window; one more gets 429. None: no limit.
        script: replies used before normal answers (bench.fake_llm_script explains the order).
        host, port: where to listen; port 0 takes a free one.

    Attributes:
        log: every request (bench.fake_llm_script.RequestLog).
        script: the replies still to come; `add` appends to it.
        in_flight, peak_in_flight: requests waiting out their latency or hang, now and at most
            (refusals and errors are answered at once and never count).
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        concurrency: int | None = None,
        rate: float | None = None,
        script: Iterable[Reply] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.latency = latency
        self.concurrency = concurrency
        self.rate = rate
        self.script = Script(script)
        self.log = RequestLog()
        self.host, self.port = host, port
        self.in_flight = 0
        self.peak_in_flight = 0
        self._admission = Admission()
        self._answers: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
        self._ids = itertools.count(1)
        self._closing = asyncio.Event()
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._openai, methods=["POST"]),
                Route("/v1/messages", self._anthropic, methods=["POST"]),
                *control_routes(self),
                Route("/{path:path}", self._unknown, methods=["GET", "POST", "PUT", "DELETE"]),
            ]
        )

    # --- addresses and the log ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url_openai(self) -> str:
        """For openai.AsyncOpenAI(base_url=...), which appends /chat/completions."""
        return f"{self.base_url}/v1"

    @property
    def base_url_anthropic(self) -> str:
        """For anthropic.AsyncAnthropic(base_url=...), which appends /v1/messages."""
        return self.base_url

    def add(self, *replies: Reply) -> None:
        """Append replies to the script."""
        self.script.add(*replies)

    def clear(self) -> None:
        """Forget the log, the script and the peak (limits and latency stay)."""
        self.log.clear()
        self.script.clear()
        self.peak_in_flight = self.in_flight

    # --- running -------------------------------------------------------------------------------

    async def start(self) -> None:
        # IPPROTO_TCP spelled out: asyncio turns Nagle off only on sockets that say they are TCP,
        # and with it on every answer waits ~40 ms for a delayed ACK.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        self.port = listener.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            backlog=4096,
        )
        self._closing.clear()
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[listener]), name="fake-llm")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the fake LLM stopped during start-up")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._closing.set()
        self._server.should_exit = True
        await self._task
        self._server = self._task = None

    async def __aenter__(self) -> FakeLLM:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- the two APIs ------------------------------------------------------------------------

    async def _openai(self, request: Request) -> Response:
        return await self._exchange(request, "openai")

    async def _anthropic(self, request: Request) -> Response:
        return await self._exchange(request, "anthropic")

    async def _unknown(self, request: Request) -> Response:
        return await self._exchange(request, None)

    async def _exchange(self, request: Request, protocol: Protocol | None) -> Response:
        started = time.monotonic()
        data = await request.body()
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        exchange = Exchange(
            protocol=protocol,
            method=request.method,
            path=request.url.path,
            headers={k: ", ".join(request.headers.getlist(k)) for k in request.headers},
            raw=data.decode("utf-8", "replace"),
            body=body,
            started=started,
        )
        self.log.append(exchange)
        ids = f"fake{next(self._ids):06d}"
        try:
            response = await self._respond(request, exchange, protocol, ids)
        finally:
            self._admission.release(ids)
            exchange.ended = time.monotonic()
        if exchange.disconnected:
            log.debug("%s %s: the client hung up", protocol, ids)
            return response
        exchange.status = response.status_code
        if isinstance(response, JSONResponse):
            exchange.response = json.loads(bytes(response.body))
        header = "request-id" if protocol == "anthropic" else "x-request-id"
        response.headers[header] = f"req_{ids}"
        log.debug("%s %s: %s %s", protocol, ids, exchange.status, exchange.reply)
        return response

    async def _respond(
        self, request: Request, exchange: Exchange, protocol: Protocol | None, ids: str
    ) -> Response:
        if protocol is None:
            exchange.reply = "not_found"
            return self._error("openai", 404, f"unknown path {exchange.path}", ids)
        try:
            prompt = wire.read_request(protocol, exchange.body)
        except wire.BadRequest as error:
            exchange.reply = "bad_request"
            return self._error(protocol, 400, str(error), ids)
        exchange.document = prompt.document
        exchange.input_tokens = wire.tokens(prompt.chars)
        reply = self.script.take(exchange)
        if reply is None:
            refusal = self._admission.admit(
                ids, concurrency=self.concurrency, rate=self.rate, latency=self.latency
            )
            if refusal is not None:
                return self._refuse(protocol, exchange, refusal, ids)
            return await self._answer(request, exchange, prompt, ok(), ids)
        exchange.scripted, exchange.reply = True, reply.kind
        if reply.kind == "status":
            message = reply.message or f"scripted {reply.status} from the fake LLM"
            return self._error(
                protocol, reply.status, message, ids, reply.retry_after, reply.error_code
            )
        if reply.kind == "raw":
            return Response(reply.body, status_code=reply.status, media_type=reply.content_type)
        if reply.kind == "hang":
            if not await self._pause(request, exchange, reply.seconds):
                return self._gone(protocol, ids)
            return await self._answer(request, exchange, prompt, ok(), ids, latency=0.0)
        return await self._answer(request, exchange, prompt, reply, ids)

    async def _answer(
        self,
        request: Request,
        exchange: Exchange,
        prompt: wire.Prompt,
        reply: Reply,
        ids: str,
        latency: float | None = None,
    ) -> Response:
        output = wire.conform(self._output(prompt), prompt.schema)
        # Latency runs from arrival, the parse included, so a request takes L whatever the chunk.
        elapsed = time.monotonic() - exchange.started
        wait = (self.latency if latency is None else latency) - elapsed
        if not await self._pause(request, exchange, wait):
            return self._gone(exchange.protocol or "openai", ids)
        body, exchange.output_tokens = wire.compose(
            exchange.protocol or "openai", prompt, output, reply.kind, ids, as_text=reply.as_text
        )
        return JSONResponse(body)

    def _output(self, prompt: wire.Prompt) -> dict[str, Any]:
        """The computed answer, remembered: the same chunk in the same context reads the same."""
        key = json.dumps([prompt.document, prompt.context.model_dump(mode="json")])
        if key in self._answers:
            self._answers.move_to_end(key)
            return self._answers[key]
        output = self._answers[key] = wire.answer(prompt)
        if len(self._answers) > _CACHE_SIZE:
            self._answers.popitem(last=False)
        return output

    # --- limits, waiting and errors ------------------------------------------------------------

    def _refuse(
        self, protocol: Protocol, exchange: Exchange, refusal: Refusal, ids: str
    ) -> Response:
        exchange.reply = refusal.reason
        log.info("429 %s %s: %s", protocol, ids, refusal.message)
        return self._error(protocol, 429, refusal.message, ids, refusal.retry_after)

    def _error(
        self,
        protocol: Protocol,
        code: int,
        message: str,
        ids: str,
        retry_after: float | None = None,
        error_code: str | None = None,
    ) -> Response:
        body, headers = wire.error(protocol, code, message, ids, retry_after, error_code)
        return JSONResponse(body, status_code=code, headers=headers)

    def _gone(self, protocol: Protocol, ids: str) -> Response:
        if self._closing.is_set():
            return self._error(protocol, 503, "the fake LLM is shutting down", ids)
        return Response(status_code=499)

    async def _pause(self, request: Request, exchange: Exchange, seconds: float) -> bool:
        """Sleep, counted in flight; False when the client hung up or the server stopped first."""
        if seconds <= 0:
            return True
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._sleep(request, exchange, seconds)
        finally:
            self.in_flight -= 1

    async def _sleep(self, request: Request, exchange: Exchange, seconds: float) -> bool:
        hung_up = asyncio.ensure_future(_disconnected(request))
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            done, _ = await asyncio.wait(
                {hung_up, closing}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            hung_up.cancel()
            closing.cancel()
        exchange.disconnected = hung_up in done
        return not done


async def _disconnected(request: Request) -> None:
    """Return when the client closes the connection (the body has been read by then)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


if __name__ == "__main__":
    from bench.fake_llm_control import main

    main()
