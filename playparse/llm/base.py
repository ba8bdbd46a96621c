"""The provider protocol every parser implements, and the registry the worker builds."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from playparse import heuristic
from playparse.errors import PlayparseError
from playparse.schema import ChunkContext, ChunkParse


@dataclass(frozen=True)
class ProviderResult:
    """A parsed chunk and what it cost."""

    parse: ChunkParse
    input_tokens: int = 0
    output_tokens: int = 0


class Provider(Protocol):
    """Parses one chunk of a play; stores nothing and keeps no state between calls."""

    name: str

    async def parse_chunk(
        self, text: str, context: ChunkContext, *, model: str | None
    ) -> ProviderResult: ...


class UnknownProvider(PlayparseError):
    type = "UnknownProvider"


class ProviderError(PlayparseError):
    """A provider call that failed; `retryable` faults are retried by Temporal.

    `retry_after` (seconds) is the provider's own word on when to try again (Retry-After).
    """

    type = "ProviderError"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        if type is not None:
            self.type = type


class HeuristicProvider:
    """The offline rule-based parser: deterministic, free, no network."""

    name = "heuristic"

    async def parse_chunk(
        self, text: str, context: ChunkContext, *, model: str | None
    ) -> ProviderResult:
        # A large chunk takes a noticeable time to parse; a thread keeps heartbeats flowing.
        parse = await asyncio.to_thread(heuristic.parse_chunk, text, context)
        return ProviderResult(parse=parse)


class Providers:
    """The providers a worker can use, by name."""

    def __init__(self, providers: Mapping[str, Provider]) -> None:
        self._providers = dict(providers)

    @property
    def names(self) -> list[str]:
        return sorted(self._providers)

    def get(self, name: str) -> Provider:
        try:
            return self._providers[name]
        except KeyError:
            known = ", ".join(self.names)
            raise UnknownProvider(f"unknown provider {name!r} (available: {known})") from None


def default_providers() -> Providers:
    """The providers available with no configuration."""
    return Providers({HeuristicProvider.name: HeuristicProvider()})
