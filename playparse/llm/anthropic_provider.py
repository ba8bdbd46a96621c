"""Anthropic Messages with a forced tool whose input schema is the chunk schema.

API version 2026-10-21, which the SDK sends, accepts no sampling parameters (temperature,
top_p, top_k): the request leaves them out. The SDK's own retries are off: every attempt is a
Temporal activity attempt, visible in the history. The SDK runs on aiohttp rather than its
default httpx transport: about a third less CPU per request (bench/provider_cpu.py).
"""

from __future__ import annotations

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
        self._tool: Any = {
            "name": TOOL_NAME,
            "description": "Record the structure of one chunk of a play.",
            "input_schema": output_schema(),
        }

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
        messages: list[Any] = [{"role": "user", "content": user_message(text, context)}]
        if repair is not None:
            previous, fault = repair
            tool_use = previous.transcript
            if tool_use is not None:
                messages += [
                    {"role": "assistant", "content": [tool_use]},
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": tool_use["id"],
                                "is_error": True,
                                "content": repair_message(fault),
                            }
                        ],
                    },
                ]
            else:
                messages.append({"role": "user", "content": repair_message(fault)})
        try:
            response = await self._client.messages.create(
                model=model,
                max_tokens=self.max_output_tokens,
                system=SYSTEM_PROMPT,
                messages=messages,
                tools=[self._tool],
                tool_choice={"type": "tool", "name": TOOL_NAME},
            )
        except anthropic.AnthropicError as error:
            raise classify(self.name, error) from None
        block = next(
            (b for b in response.content if b.type == "tool_use" and b.name == TOOL_NAME), None
        )
        transcript = (
            {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            if block is not None
            else None
        )
        refusal = None
        if response.stop_reason == "refusal":
            words = [b.text for b in response.content if b.type == "text"]
            refusal = " ".join(words) or "stopped with stop_reason refusal"
        return Answer(
            output=block.input if block is not None else None,  # type: ignore[arg-type]
            # Cut off by the output limit, or by the context window the output ran into.
            truncated=response.stop_reason in ("max_tokens", "model_context_window_exceeded"),
            input_tokens=response.usage.input_tokens,
            output_tokens=response.usage.output_tokens,
            transcript=transcript,
            refusal=refusal,
        )
