"""The fake LLM's script of replies and its request log.

A script is one queue shared by both protocols. Each arriving request takes the first entry
still in the queue that applies to it (its `protocol`, if set, and its `when`, if set); an entry
is used `times` times (None: for ever) and then leaves the queue. A request no entry applies to
gets the normal answer, subject to the server's limits. Scripted replies are outside the limits:
they are never refused with a 429 and do not count against `concurrency` or `rate`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from bench.fake_llm_wire import Protocol

Kind = Literal[
    "ok",
    "status",
    "hang",
    "malformed",
    "invalid",
    "truncated",
    "raw",
    "refused",
    "empty",
    "filtered",
]
# A marker the document must contain, or any test on the request.
When = str | Callable[["Exchange"], bool] | None


@dataclass(frozen=True)
class Reply:
    """One scripted reply; build it with the functions below rather than by hand."""

    kind: Kind
    status: int = 200
    retry_after: float | None = None
    # status: the error's code (OpenAI's `code`, e.g. "insufficient_quota"; Anthropic's
    # `details.error_code`, e.g. "enforced_spend_limit_reached").
    error_code: str | None = None
    # hang: how long before it answers after all (the client should have given up by then).
    seconds: float = 3600.0
    # truncated on Anthropic: a text block with the partial JSON instead of a cut tool_use.
    as_text: bool = False
    # raw: the exact body and content type sent.
    body: str = ""
    content_type: str = "application/json"
    message: str | None = None
    protocol: Protocol | None = None
    when: When = None
    times: int | None = 1

    def applies_to(self, exchange: Exchange) -> bool:
        if self.protocol is not None and self.protocol != exchange.protocol:
            return False
        if self.when is None:
            return True
        if isinstance(self.when, str):
            return self.when in (exchange.document or "")
        return self.when(exchange)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["when"] = self.when if isinstance(self.when, str) or self.when is None else "<test>"
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        """An entry from the control API (`when` may only be a marker string there)."""
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        if not isinstance(known.get("when"), str | None):
            raise ValueError("when: only a marker string can be sent over HTTP")
        return cls(**known)


def ok(**options: Any) -> Reply:
    """The normal computed answer (after the server's latency), outside the limits."""
    return Reply("ok", **options)


def status(code: int, retry_after: float | None = None, **options: Any) -> Reply:
    """An error status with the protocol's error body, at once; retry-after if given.

    Anthropic's 529 carries `overloaded_error`, its 429 `rate_limit_error`, 5xx `api_error`.
    """
    return Reply("status", status=code, retry_after=retry_after, **options)


def hang(seconds: float = 3600.0, **options: Any) -> Reply:
    """No answer for `seconds` (ended early when the client hangs up or the server stops)."""
    return Reply("hang", seconds=seconds, **options)


def malformed(**options: Any) -> Reply:
    """Content that is not JSON: OpenAI message.content, Anthropic a text block (end_turn)."""
    return Reply("malformed", **options)


def invalid(**options: Any) -> Reply:
    """Valid JSON that breaks the schema (an item of type "song" first)."""
    return Reply("invalid", **options)


def truncated(*, as_text: bool = False, **options: Any) -> Reply:
    """Cut off by max_tokens: OpenAI finish_reason "length" with the first half of the JSON;
    Anthropic stop_reason "max_tokens" with a tool_use holding half the items (the last cut
    short) or, with `as_text`, a text block with the first half of the JSON."""
    return Reply("truncated", as_text=as_text, **options)


def refused(**options: Any) -> Reply:
    """The model declines: OpenAI message.refusal with no content, Anthropic stop_reason
    "refusal" with a text block saying so."""
    return Reply("refused", **options)


def empty(**options: Any) -> Reply:
    """A well-formed answer that records nothing (no title, author, cast or items)."""
    return Reply("empty", **options)


def filtered(**options: Any) -> Reply:
    """OpenAI's content filter stops the answer: finish_reason "content_filter" with the
    first half of the JSON (Anthropic has no such stop; it answers as for `ok`)."""
    return Reply("filtered", **options)


def raw(code: int, body: str, content_type: str = "text/html", **options: Any) -> Reply:
    """Exactly this status and body, as a misbehaving proxy might send."""
    return Reply("raw", status=code, body=body, content_type=content_type, **options)


class Script:
    """The queue of scripted replies."""

    def __init__(self, replies: Iterable[Reply] = ()) -> None:
        self._entries: list[Reply] = list(replies)

    def add(self, *replies: Reply) -> None:
        self._entries.extend(replies)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> list[Reply]:
        return list(self._entries)

    def take(self, exchange: Exchange) -> Reply | None:
        """The entry for this request, if any, counting one use of it."""
        for i, entry in enumerate(self._entries):
            if entry.applies_to(exchange):
                if entry.times is not None:
                    if entry.times <= 1:
                        del self._entries[i]
                    else:
                        self._entries[i] = replace(entry, times=entry.times - 1)
                return entry
        return None


@dataclass
class Exchange:
    """One request the fake received and what it did with it.

    `started` and `ended` are time.monotonic() values (system-wide on Linux, so comparable with
    another process's). `status` is None while the request is in flight and when the client hung
    up before an answer was sent (`disconnected`). `reply` says what was sent: a script kind,
    "concurrency_limit" or "rate_limit" for the limits' 429s, "bad_request" or "not_found".
    """

    protocol: Protocol | None
    method: str
    path: str
    headers: dict[str, str]
    # The body as received (decoded as UTF-8, for searching) and parsed (None if not JSON).
    raw: str
    body: Any
    started: float
    document: str | None = None
    ended: float | None = None
    status: int | None = None
    scripted: bool = False
    reply: str = "ok"
    disconnected: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    # The JSON body sent back, if any.
    response: Any = field(default=None, repr=False)

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    @property
    def limited(self) -> bool:
        """Refused by the server's concurrency or rate limit."""
        return self.reply in ("concurrency_limit", "rate_limit")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration"] = self.duration
        return data


class RequestLog:
    """Every request in arrival order, with helpers for the questions tests ask.

    Iterate it, index it (`log[-1]`), take `len`, or copy `entries` to slice.
    """

    def __init__(self) -> None:
        self._entries: list[Exchange] = []

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> Exchange:
        return self._entries[index]

    def append(self, exchange: Exchange) -> None:
        self._entries.append(exchange)

    def clear(self) -> None:
        self._entries.clear()

    @property
    def entries(self) -> list[Exchange]:
        return list(self._entries)

    def of(
        self, protocol: Protocol | None = None, *, where: Callable[[Exchange], bool] | None = None
    ) -> list[Exchange]:
        """The requests of one protocol (None: both) that pass `where`."""
        return [
            e
            for e in self
            if (protocol is None or e.protocol == protocol) and (where is None or where(e))
        ]

    def count(
        self,
        protocol: Protocol | None = None,
        *,
        status: int | None = None,
        reply: str | None = None,
        scripted: bool | None = None,
    ) -> int:
        """How many requests match every field given."""
        return len(
            self.of(
                protocol,
                where=lambda e: (
                    (status is None or e.status == status)
                    and (reply is None or e.reply == reply)
                    and (scripted is None or e.scripted == scripted)
                ),
            )
        )

    @property
    def limited(self) -> list[Exchange]:
        """The requests refused by the concurrency or rate limit."""
        return [e for e in self if e.limited]

    async def wait_for(
        self,
        count: int = 1,
        *,
        where: Callable[[Exchange], bool] | None = None,
        timeout: float = 10.0,
    ) -> list[Exchange]:
        """Wait until `count` requests pass `where` (all count without it); returns them."""
        deadline = time.monotonic() + timeout
        while len(found := self.of(where=where)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} requests after {timeout} s")
            await asyncio.sleep(0.01)
        return found
