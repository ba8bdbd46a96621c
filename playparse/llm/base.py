"""The provider protocol every parser implements, and the registry the worker builds."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from playparse import heuristic
from playparse.config import Settings
from playparse.errors import PlayparseError
from playparse.schema import ChunkContext, ChunkParse

if TYPE_CHECKING:
    from playparse.llm.structured import Endpoint


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

    async def aclose(self) -> None:
        """Close the providers' HTTP connections (those that keep any)."""
        for provider in self._providers.values():
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()


LLM_PROVIDERS = ("anthropic", "openai")
ALL_PROVIDERS = ("heuristic", *LLM_PROVIDERS)


def configured_providers(settings: Settings | None = None) -> list[str]:
    """The provider names a job may ask for under these settings."""
    names = ["heuristic"]
    if settings is not None and settings.anthropic_api_key is not None:
        names.append("anthropic")
    if settings is not None and (
        settings.openai_api_key is not None or settings.openai_base_url is not None
    ):
        names.append("openai")
    return names


def default_model(settings: Settings, provider: str) -> str | None:
    """The model a job of `provider` uses when it names none (None: the provider has none)."""
    return {"anthropic": settings.anthropic_model, "openai": settings.openai_model}.get(provider)


def default_providers(settings: Settings | None = None) -> Providers:
    """The heuristic parser, and the LLM providers the settings configure."""
    providers: dict[str, Provider] = {HeuristicProvider.name: HeuristicProvider()}
    configured = configured_providers(settings)
    if settings is not None and "anthropic" in configured:
        from playparse.llm.anthropic_provider import AnthropicProvider

        assert settings.anthropic_api_key is not None
        providers["anthropic"] = AnthropicProvider(
            _endpoint(
                settings,
                settings.anthropic_api_key.get_secret_value(),
                settings.anthropic_base_url,
                settings.anthropic_model,
            )
        )
    if settings is not None and "openai" in configured:
        from playparse.llm.openai_provider import OpenAIProvider

        key = settings.openai_api_key
        providers["openai"] = OpenAIProvider(
            _endpoint(
                settings,
                # Local OpenAI-compatible servers need no key, but the SDK wants one.
                key.get_secret_value() if key is not None else "unused",
                settings.openai_base_url,
                settings.openai_model,
            )
        )
    return Providers(providers)


def _endpoint(settings: Settings, key: str, base_url: str | None, model: str) -> Endpoint:
    from playparse.llm.structured import Endpoint

    return Endpoint(
        api_key=key,
        base_url=base_url,
        default_model=model,
        timeout_s=settings.llm_timeout_s,
        max_output_tokens=settings.llm_max_output_tokens,
    )
