"""The request loop shared by the LLM providers: ask, validate, repair once, split if cut off.

A vendor subclass only knows how to put one question to its API (`_ask`); this class decides
what to do with the answer:
- a valid answer is the chunk's parse;
- a refusal fails the chunk for good, with the model's words, and so does an answer the
  provider's content filter withheld;
- an answer that does not match the schema, or records nothing of a chunk with text, gets one
  repair attempt (the model is shown the
  validation error), and a second invalid answer fails the chunk for good with that error;
- an answer cut off by the output token limit is never used: the chunk is split in two at a
  line break and each half is asked for on its own (the second with the first half's context),
  down to a few levels;
- a whole chunk whose answer does not come within the request timeout (a long answer from a
  slow model takes minutes) is asked for in halves the same way, once: a half that times out
  too fails the attempt, and Temporal's retry policy asks again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playparse.errors import PlayparseError
from playparse.llm.base import ProviderError, ProviderResult
from playparse.llm.prompt import (
    InvalidOutput,
    context_after,
    merge_halves,
    read_output,
    split_text,
)
from playparse.schema import ChunkContext, ChunkParse

MAX_SPLITS = 3
# A piece this small that still overflows the output limit is not worth splitting further.
MIN_SPLIT_CHARS = 200


@dataclass
class Answer:
    """One reply of a model: its structured output (if any), whether it was cut off, usage."""

    output: str | dict[str, Any] | None
    truncated: bool
    input_tokens: int
    output_tokens: int
    # What the vendor needs to show the model its own previous answer in a repair request.
    transcript: Any = None
    # The model's own words when it declined to answer.
    refusal: str | None = None
    # Why the provider withheld the answer (a content filter), when it did.
    withheld: str | None = None


@dataclass
class _Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, answer: Answer) -> None:
        self.input_tokens += answer.input_tokens
        self.output_tokens += answer.output_tokens


@dataclass(frozen=True)
class Endpoint:
    """Where and how a provider's API is reached (from settings; the key stays here)."""

    api_key: str
    base_url: str | None
    default_model: str
    timeout_s: float = 120.0
    max_output_tokens: int = 8192


class StructuredProvider:
    """Base of the LLM providers; stores nothing and keeps no state between chunks."""

    name = "llm"

    def __init__(self, endpoint: Endpoint) -> None:
        self.default_model = endpoint.default_model
        self.max_output_tokens = endpoint.max_output_tokens

    async def parse_chunk(
        self, text: str, context: ChunkContext, *, model: str | None
    ) -> ProviderResult:
        usage = _Usage()
        try:
            parse = await self._parse(text, context, model or self.default_model, usage, depth=0)
        except PlayparseError as error:
            # Calls made before the failure were paid for all the same.
            error.spent = (usage.input_tokens, usage.output_tokens)
            raise
        return ProviderResult(
            parse=parse, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens
        )

    async def _parse(
        self, text: str, context: ChunkContext, model: str, usage: _Usage, depth: int
    ) -> ChunkParse:
        try:
            answer = await self._ask(model, text, context, repair=None)
        except ProviderError as error:
            # Halves are quicker to write; a provider that is down times out on them too.
            if error.type != "Timeout" or depth > 0 or len(text) < MIN_SPLIT_CHARS:
                raise
            return await self._halves(text, context, model, usage, depth)
        usage.add(answer)
        if not answer.truncated:
            try:
                return self._read(answer, text)
            except InvalidOutput as error:
                answer = await self._ask(model, text, context, repair=(answer, error.message))
                usage.add(answer)
                if not answer.truncated:
                    return self._read(answer, text)
        if depth >= MAX_SPLITS or len(text) < MIN_SPLIT_CHARS:
            raise ProviderError(
                f"{self.name}: the answer was cut off by the output limit "
                f"({self.max_output_tokens} tokens) even for a piece of {len(text)} characters",
                retryable=False,
                type="OutputTruncated",
            )
        return await self._halves(text, context, model, usage, depth)

    async def _halves(
        self, text: str, context: ChunkContext, model: str, usage: _Usage, depth: int
    ) -> ChunkParse:
        first, second = split_text(text)
        head = await self._parse(first, context, model, usage, depth + 1)
        tail = await self._parse(second, context_after(head, context), model, usage, depth + 1)
        return merge_halves(head, tail)

    def _read(self, answer: Answer, text: str) -> ChunkParse:
        """The parse an answer holds; a refusal fails the chunk, an empty answer is invalid.

        A refusal is the model's decision about this text, so asking again is no use. An
        answer that records nothing of a chunk with text would drop that text from the play
        (and be cached as the chunk's answer), so it is treated like any other invalid one.
        """
        if answer.withheld:
            # The provider's filter, not the schema: the same text would be withheld again.
            raise ProviderError(
                f"{self.name}: {answer.withheld}", retryable=False, type="ContentFiltered"
            )
        if answer.refusal:
            words = " ".join(answer.refusal.split())
            raise ProviderError(
                f"{self.name}: the model declined this chunk: {words[:300]}",
                retryable=False,
                type="ModelRefused",
            )
        parse = read_output(answer.output)
        recorded = any(item.text.strip() for item in parse.items)
        if text.strip() and not (recorded or parse.cast or parse.title or parse.author):
            raise InvalidOutput("the answer records nothing, but the chunk has text")
        return parse

    async def _ask(
        self,
        model: str,
        text: str,
        context: ChunkContext,
        *,
        repair: tuple[Answer, str] | None,
    ) -> Answer:
        """Put the chunk to the model once; `repair` carries a previous answer and its fault."""
        raise NotImplementedError
