"""OpenAI Chat Completions with structured outputs (json_schema), or any compatible server.

The base URL comes from settings, so vLLM, Ollama and llama.cpp servers work as well. The SDK's
own retries are off: every attempt is a Temporal activity attempt, visible in the history.

A worker sends many requests a second, so their CPU counts (bench/provider_cpu.py): the SDK
runs on aiohttp instead of its default httpx transport (2.5 instead of 3.3-4 ms of CPU per
request), and the request body, built here, goes out through the client's `post` rather than
`chat.completions.create`, which walks every message and the schema against the parameter
types on each call (a further 0.8-1 ms; 1.4 ms per request with both). Authentication, the
base URL, timeouts, errors and the typed `ChatCompletion` answer are the SDK's either way.
"""

from __future__ import annotations

import re
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from playparse.llm.failures import classify
from playparse.llm.prompt import (
    SYSTEM_PROMPT,
    TEMPERATURE,
    TOOL_NAME,
    output_schema,
    repair_message,
    user_message,
)
from playparse.llm.structured import Answer, Endpoint, StructuredProvider
from playparse.schema import ChunkContext

# Models that take a temperature: GPT-4 and GPT-3.5. OpenAI's reasoning models (o1, o3,
# o4-mini, gpt-5 and later) refuse any value but their default with a 400, so for every other
# model the request leaves it out (an OpenAI-compatible server then uses its own default).
_TAKES_TEMPERATURE = re.compile(r"^(gpt-4|gpt-3\.5|chatgpt-4o)")


class OpenAIProvider(StructuredProvider):
    name = "openai"

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        self._client = openai.AsyncOpenAI(
            api_key=endpoint.api_key,
            base_url=endpoint.base_url,
            max_retries=0,
            timeout=endpoint.timeout_s,
            http_client=openai.DefaultAioHttpClient(),
        )
        self._format: Any = {
            "type": "json_schema",
            "json_schema": {"name": TOOL_NAME, "strict": True, "schema": output_schema()},
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
        messages: list[Any] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_message(text, context)},
        ]
        if repair is not None:
            previous, fault = repair
            messages += [
                {"role": "assistant", "content": previous.transcript or ""},
                {"role": "user", "content": repair_message(fault)},
            ]
        body: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_completion_tokens": self.max_output_tokens,
            "response_format": self._format,
        }
        if _TAKES_TEMPERATURE.match(model):
            body["temperature"] = TEMPERATURE
        try:
            response = await self._client.post(
                "/chat/completions", body=body, cast_to=ChatCompletion
            )
        except openai.OpenAIError as error:
            raise classify(self.name, error) from None
        choice = response.choices[0] if response.choices else None
        content = choice.message.content if choice is not None else None
        finish = choice.finish_reason if choice is not None else None
        usage = response.usage
        return Answer(
            output=content,
            truncated=finish == "length",
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            transcript=content,
            refusal=choice.message.refusal if choice is not None else None,
            withheld=(
                "the provider's content filter withheld the answer to this chunk"
                if finish == "content_filter"
                else None
            ),
        )
