"""The fake LLM's concurrency and rate limits, over the requests it admits.

Only unscripted requests pass through here: scripted replies are neither refused nor counted.
A refused request is not counted either, so at most `rate` requests are admitted in any 1 s.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass

# A refusal's retry-after is never below this, so a client never spins on zero.
MIN_RETRY_AFTER_S = 0.05
WINDOW_S = 1.0


@dataclass(frozen=True)
class Refusal:
    """Why a request gets 429 and when a retry would be admitted."""

    reason: str  # "concurrency_limit" or "rate_limit"
    limit: float
    retry_after: float

    @property
    def message(self) -> str:
        what = self.reason.replace("_", " ")
        return f"{what} of {self.limit:g} reached; retry after {self.retry_after:.3f} s"


class Admission:
    """The admitted requests in flight and those of the last second."""

    def __init__(self) -> None:
        # Start times of admitted requests still in flight, by request id.
        self._in_flight: dict[str, float] = {}
        self._window: collections.deque[float] = collections.deque()

    def admit(
        self, ids: str, *, concurrency: int | None, rate: float | None, latency: float
    ) -> Refusal | None:
        """Admit request `ids` (None) or refuse it; `latency` estimates when a slot frees up."""
        now = time.monotonic()
        while self._window and self._window[0] <= now - WINDOW_S:
            self._window.popleft()
        if concurrency is not None and len(self._in_flight) >= concurrency:
            first_done = min(self._in_flight.values()) + latency
            return Refusal("concurrency_limit", concurrency, _wait(first_done - now))
        if rate is not None and len(self._window) >= rate:
            return Refusal("rate_limit", rate, _wait(self._window[0] + WINDOW_S - now))
        self._in_flight[ids] = now
        self._window.append(now)
        return None

    def release(self, ids: str) -> None:
        """The request has been answered (or its client has gone)."""
        self._in_flight.pop(ids, None)


def _wait(seconds: float) -> float:
    return max(seconds, MIN_RETRY_AFTER_S)
