"""Anthropic Messages with structured outputs: the answer is JSON in the chunk schema.

Claude models from Claude 4.5 on take the schema as `output_config.format` and answer with
JSON text that follows it. Models that always think (Sonnet 5.5, Opus 5.5 and after) refuse a
forced tool choice with a 400, so that is the way for every model but the older ones that
predate structured outputs (Claude 3, Opus 4 and 4.1, Sonnet 4), which refuse the format and
instead get a forced tool whose input schema is the chunk schema.

API version 2026-10-21, which the SDK sends, accepts no sampling parameters (temperature,
top_p, top_k): the request leaves them out. The SDK's own retries are off: every attempt is a
Temporal activity attempt, visible in the history. The SDK runs on aiohttp rather than its
default httpx transport: about a third less CPU per request (bench/provider_cpu.py).
"""

from __future__ import annotations

import re
from typing import Any

import anthropic

from playparse.llm.failures import classify
from playparse.llm.prompt import (
    SYSTEM_PROMPT,
    TOOL_NAME,
    output_schema,
    repair_message,
    user_message,
)
from playparse.llm.structured import Answer, Endpoint, StructuredProvider
from playparse.schema import ChunkContext

# Models from before structured outputs: their ids (aliases and dated snapshots alike).
_BEFORE_STRUCTURED_OUTPUTS = re.compile(r"^claude-(3|2|instant|(opus|sonnet)-4(-[01])?(-\d{8})?$)")


def uses_tool(model: str) -> bool:
    """Whether `model` gets the forced tool instead of `output_config.format`."""
    return _BEFORE_STRUCTURED_OUTPUTS.match(model) is not None


class AnthropicProvider(StructuredProvider):
    name = "anthropic"

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        self._client = anthropic.AsyncAnthropic(
            api_key=endpoint.api_key,
            base_url=endpoint.base_url,
            max_retries=0,
            timeout=endpoint.timeout_s,
            http_client=anthropic.DefaultAioHttpClient(),
        )
        schema = output_schema()
        self._tool: Any = {
            "name": TOOL_NAME,
            "description": "Record the structure of one chunk of a play.",
            "input_schema": schema,
        }
        self._format: Any = {"format": {"type": "json_schema", "schema": schema}}

    async def aclose(self) -> None:
        await self._client.close()

    async def _ask(
        self,
        model: str,
        text: str,
        context: ChunkContext,
        *,
        repair: tuple[Answer, str] | None,
    ) -> Answer:
        tool = uses_tool(model)
        messages: list[Any] = [{"role": "user", "content": user_message(text, context)}]
        if repair is not None:
            messages += _repair_turns(*repair)
        options: dict[str, Any] = (
            {
                "tools": [self._tool],
                # One call of the tool: a second one would hold part of the chunk.
                "tool_choice": {
                    "type": "tool",
                    "name": TOOL_NAME,
                    "disable_parallel_tool_use": True,
                },
            }
            if tool
            else {"output_config": self._format}
        )
        try:
            response = await self._client.messages.create(
                model=model,
                max_tokens=self.max_output_tokens,
                system=SYSTEM_PROMPT,
                messages=messages,
                **options,
            )
        except anthropic.AnthropicError as error:
            raise classify(self.name, error) from None
        words = " ".join(b.text for b in response.content if b.type == "text")
        output: str | dict[str, Any] | None
        if tool:
            block = next(
                (b for b in response.content if b.type == "tool_use" and b.name == TOOL_NAME),
                None,
            )
            output = block.input if block is not None else None  # type: ignore[assignment]
            transcript: dict[str, Any] | None = (
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
                if block is not None
                else None
            )
        else:
            output = words or None
            transcript = {"type": "text", "text": words} if words else None
        refusal = None
        if response.stop_reason == "refusal":
            refusal = words or "stopped with stop_reason refusal"
        return Answer(
            output=output,
            # Cut off by the output limit, or by the context window the output ran into.
            truncated=response.stop_reason in ("max_tokens", "model_context_window_exceeded"),
            input_tokens=response.usage.input_tokens,
            output_tokens=response.usage.output_tokens,
            transcript=transcript,
            refusal=refusal,
        )


def _repair_turns(previous: Answer, fault: str) -> list[Any]:
    """The model's previous answer and what was wrong with it, as the next two turns."""
    answer = previous.transcript
    if answer is None:
        return [{"role": "user", "content": repair_message(fault)}]
    if answer.get("type") == "tool_use":
        reply: Any = {
            "type": "tool_result",
            "tool_use_id": answer["id"],
            "is_error": True,
            "content": repair_message(fault),
        }
    else:
        reply = {"type": "text", "text": repair_message(fault)}
    return [
        {"role": "assistant", "content": [answer]},
        {"role": "user", "content": [reply]},
    ]
