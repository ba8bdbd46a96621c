"""The fake LLM server speaks both wire formats well enough for the real SDK clients, faults too."""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pydantic
import pytest
import pytest_asyncio
from anthropic.types import Message
from openai.types.chat import ChatCompletion

from bench.fake_llm import FakeLLM, hang, invalid, malformed, status, truncated
from playparse import heuristic
from playparse.llm.prompt import (
    SYSTEM_PROMPT,
    TEMPERATURE,
    TOOL_NAME,
    ChunkOutput,
    output_schema,
    user_message,
)
from playparse.schema import CharacterRef, ChunkContext

REPO = Path(__file__).resolve().parents[2]
OPENAI_KEY = "sk-openai-fake-test-key"
ANTHROPIC_KEY = "sk-ant-fake-test-key"
TEXT = (
    "ACT I.\n\nSCENE 1. Elsinore. A platform.\n\n"
    "HAMLET. To be, or not to be, that is the question.\n\n"
    "OPHELIA. My lord?\n\n[Exit HAMLET.]\n\n"
    "HAMLET. Get thee to a nunnery.\n"
)
CONTEXT = ChunkContext(
    index=3,
    characters=[
        CharacterRef(id="hamlet", name="HAMLET"),
        CharacterRef(id="ophelia", name="OPHELIA"),
    ],
)
PROMPT_CHARS = len(SYSTEM_PROMPT) + len(user_message(TEXT, CONTEXT))


def expected_items(text: str = TEXT) -> list[tuple[str, list[str], str]]:
    parse = heuristic.parse_chunk(text, CONTEXT)
    return [(item.type, item.speakers, item.text) for item in parse.items]


def items_of(output: ChunkOutput) -> list[tuple[str, list[str], str]]:
    return [(item.type, item.speakers, item.text) for item in output.items]


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeLLM]:
    async with FakeLLM() as server:
        yield server


@pytest_asyncio.fixture
async def gpt(fake: FakeLLM) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=fake.base_url_openai, api_key=OPENAI_KEY, max_retries=0, timeout=5
    ) as client:
        yield client


@pytest_asyncio.fixture
async def claude(fake: FakeLLM) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=fake.base_url_anthropic, api_key=ANTHROPIC_KEY, max_retries=0, timeout=5
    ) as client:
        yield client


async def ask_openai(
    client: openai.AsyncOpenAI, text: str = TEXT, **options: Any
) -> ChatCompletion:
    return await client.chat.completions.create(
        model="gpt-fake",
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_message(text, CONTEXT)},
        ],
        temperature=TEMPERATURE,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": TOOL_NAME, "strict": True, "schema": output_schema()},
        },
        **options,
    )


async def ask_anthropic(
    client: anthropic.AsyncAnthropic, text: str = TEXT, max_tokens: int = 4096
) -> Message:
    return await client.messages.create(
        model="claude-fake",
        max_tokens=max_tokens,
        system=SYSTEM_PROMPT,
        messages=[{"role": "user", "content": user_message(text, CONTEXT)}],
        tools=[{"name": TOOL_NAME, "description": "Record.", "input_schema": output_schema()}],
        tool_choice={"type": "tool", "name": TOOL_NAME},
    )


# --- answers -----------------------------------------------------------------------------------


async def test_openai_answers_the_parsed_document_as_json_content(
    fake: FakeLLM, gpt: openai.AsyncOpenAI
) -> None:
    response = await ask_openai(gpt)

    choice = response.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.content is not None
    output = ChunkOutput.model_validate_json(choice.message.content)
    assert items_of(output) == expected_items()
    assert response.usage is not None
    assert response.usage.prompt_tokens == math.ceil(PROMPT_CHARS / 4)
    assert response.usage.completion_tokens == math.ceil(len(choice.message.content) / 4)

    [request] = fake.log
    assert (request.protocol, request.path, request.status) == (
        "openai",
        "/v1/chat/completions",
        200,
    )
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert request.body["response_format"]["json_schema"]["schema"] == output_schema()
    assert request.document == TEXT
    assert not request.scripted


async def test_openai_parse_helper_reads_the_answer_into_the_model(
    gpt: openai.AsyncOpenAI,
) -> None:
    response = await gpt.chat.completions.parse(
        model="gpt-fake",
        messages=[{"role": "user", "content": user_message(TEXT, CONTEXT)}],
        response_format=ChunkOutput,
    )
    parsed = response.choices[0].message.parsed
    assert parsed is not None
    assert items_of(parsed) == expected_items()


async def test_anthropic_answers_with_the_forced_tool(
    fake: FakeLLM, claude: anthropic.AsyncAnthropic
) -> None:
    message = await ask_anthropic(claude)

    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert block.type == "tool_use"
    assert block.name == TOOL_NAME
    assert items_of(ChunkOutput.model_validate(block.input)) == expected_items()
    assert message.usage.input_tokens == math.ceil(PROMPT_CHARS / 4)
    assert message.usage.output_tokens > 0

    [request] = fake.log
    assert (request.protocol, request.path, request.status) == ("anthropic", "/v1/messages", 200)
    # anthropic 2.x sends the key as a Bearer token, with its API version beside it.
    assert request.headers["authorization"] == f"Bearer {ANTHROPIC_KEY}"
    assert "anthropic-version" in request.headers
    assert request.body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}


# --- scripted faults ---------------------------------------------------------------------------


async def test_429_with_retry_after_is_the_sdks_rate_limit_error(
    fake: FakeLLM, gpt: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic
) -> None:
    fake.add(status(429, retry_after=2, protocol="openai"), status(429, retry_after=0.5))

    with pytest.raises(openai.RateLimitError) as refused:
        await ask_openai(gpt)
    assert refused.value.response.headers["retry-after"] == "2"
    assert refused.value.response.headers["retry-after-ms"] == "2000"
    assert refused.value.code == "rate_limit_exceeded"

    with pytest.raises(anthropic.RateLimitError) as limited:
        await ask_anthropic(claude)
    assert limited.value.response.headers["retry-after"] == "1"
    assert limited.value.response.headers["retry-after-ms"] == "500"
    assert limited.value.type == "rate_limit_error"
    assert fake.log.count(status=429, scripted=True) == 2


async def test_529_is_overloaded_on_anthropic_and_5xx_server_errors_on_openai(
    fake: FakeLLM, gpt: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic
) -> None:
    fake.add(status(529, protocol="anthropic"), status(500), status(503))

    with pytest.raises(anthropic.APIStatusError) as overloaded:
        await ask_anthropic(claude)
    assert overloaded.value.status_code == 529
    assert overloaded.value.type == "overloaded_error"
    assert overloaded.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "scripted 529 from the fake LLM"},
        "request_id": overloaded.value.request_id,
    }
    for code in (500, 503):
        with pytest.raises(openai.InternalServerError) as failed:
            await ask_openai(gpt)
        assert failed.value.status_code == code


async def test_a_hanging_request_runs_into_the_sdk_timeout(
    fake: FakeLLM, gpt: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic
) -> None:
    fake.add(hang(), hang())
    started = time.monotonic()

    with pytest.raises(openai.APITimeoutError):
        await ask_openai(gpt.with_options(timeout=0.3))
    with pytest.raises(anthropic.APITimeoutError):
        await ask_anthropic(claude.with_options(timeout=0.3))

    assert time.monotonic() - started < 2
    # The fake notices the client hanging up and sends nothing.
    gone = await fake.log.wait_for(2, where=lambda e: e.disconnected, timeout=2)
    assert [e.status for e in gone] == [None, None]


async def test_truncated_answers_stop_at_the_token_limit(
    fake: FakeLLM, gpt: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic
) -> None:
    fake.add(truncated(protocol="openai"), truncated(), truncated(as_text=True))

    response = await ask_openai(gpt, max_completion_tokens=40)
    choice = response.choices[0]
    assert choice.finish_reason == "length"
    assert choice.message.content
    with pytest.raises(json.JSONDecodeError):
        json.loads(choice.message.content)
    assert response.usage is not None and response.usage.completion_tokens == 40

    message = await ask_anthropic(claude, max_tokens=40)
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 40
    [block] = message.content
    assert block.type == "tool_use"
    assert len(block.input["items"]) < len(expected_items())  # type: ignore[arg-type]

    message = await ask_anthropic(claude, max_tokens=40)
    assert message.stop_reason == "max_tokens"
    assert [b.type for b in message.content] == ["text"]


async def test_malformed_and_invalid_answers(
    fake: FakeLLM, gpt: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic
) -> None:
    fake.add(malformed(protocol="openai"), invalid(protocol="openai"), malformed(), invalid())

    for _ in range(2):
        content = (await ask_openai(gpt)).choices[0].message.content
        assert content is not None
        with pytest.raises(pydantic.ValidationError):
            ChunkOutput.model_validate_json(content)

    message = await ask_anthropic(claude)
    assert message.stop_reason == "end_turn"
    assert [b.type for b in message.content] == ["text"]
    message = await ask_anthropic(claude)
    [block] = message.content
    assert block.type == "tool_use"
    with pytest.raises(pydantic.ValidationError, match="song"):
        ChunkOutput.model_validate(block.input)
    assert [e.reply for e in fake.log] == ["malformed", "invalid", "malformed", "invalid"]


async def test_an_entry_with_a_marker_fails_only_the_documents_containing_it(
    fake: FakeLLM, claude: anthropic.AsyncAnthropic
) -> None:
    fake.add(status(500, when="FAIL-HERE", times=None))

    for _ in range(2):
        with pytest.raises(anthropic.InternalServerError):
            await ask_anthropic(claude, TEXT + "FAIL-HERE\n")
    assert (await ask_anthropic(claude)).stop_reason == "tool_use"
    assert len(fake.script) == 1
    assert [e.status for e in fake.log] == [500, 500, 200]


# --- latency and limits ------------------------------------------------------------------------


async def test_latency_can_change_while_the_server_runs(
    fake: FakeLLM, gpt: openai.AsyncOpenAI
) -> None:
    fake.latency = 0.3
    await ask_openai(gpt)
    fake.latency = 0.0
    await ask_openai(gpt)

    slow, fast = (e.duration or 0 for e in fake.log)
    assert 0.3 <= slow < 0.6
    assert fast < 0.1


async def test_requests_over_the_concurrency_limit_get_429(
    fake: FakeLLM, gpt: openai.AsyncOpenAI
) -> None:
    fake.latency, fake.concurrency = 0.5, 2

    results = await asyncio.gather(*(ask_openai(gpt) for _ in range(5)), return_exceptions=True)

    answered = [r for r in results if isinstance(r, ChatCompletion)]
    refused = [r for r in results if isinstance(r, openai.RateLimitError)]
    assert (len(answered), len(refused)) == (2, 3)
    for error in refused:
        assert 0 < int(error.response.headers["retry-after-ms"]) <= 500
    assert [e.reply for e in fake.log.limited] == ["concurrency_limit"] * 3
    assert fake.peak_in_flight == 2


async def test_requests_over_the_rate_limit_get_429_until_the_window_moves(
    fake: FakeLLM, claude: anthropic.AsyncAnthropic
) -> None:
    fake.rate = 3

    outcomes = []
    for _ in range(5):
        try:
            await ask_anthropic(claude)
            outcomes.append(200)
        except anthropic.RateLimitError as error:
            outcomes.append(429)
            wait_ms = int(error.response.headers["retry-after-ms"])
    assert outcomes == [200, 200, 200, 429, 429]
    assert 0 < wait_ms <= 1000

    await asyncio.sleep(wait_ms / 1000)
    assert (await ask_anthropic(claude)).stop_reason == "tool_use"
    assert fake.log.count(reply="rate_limit") == 2


# --- as a process ------------------------------------------------------------------------------


async def test_the_command_line_serves_and_takes_orders_over_http() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.fake_llm",
        "--latency",
        "0",
        "--rate",
        "50",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        ready = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert ready.startswith("fake LLM ready:")
        fields = dict(part.split("=", 1) for part in ready.split()[3:])
        async with httpx.AsyncClient(base_url=fields["control"]) as control:
            config = await control.post("/config", json={"concurrency": 4})
            assert config.json() == {"latency": 0.0, "concurrency": 4, "rate": 50.0}
            await control.post("/script", json=[{"kind": "status", "status": 503}])
            async with openai.AsyncOpenAI(
                base_url=fields["openai"], api_key=OPENAI_KEY, max_retries=0
            ) as client:
                with pytest.raises(openai.InternalServerError):
                    await ask_openai(client)
                await ask_openai(client)
            log = (await control.get("/log")).json()
        assert [(e["status"], e["scripted"]) for e in log] == [(503, True), (200, False)]
        assert log[1]["document"] == TEXT
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0


# --- what the real APIs refuse for a model -------------------------------------------------------


async def test_anthropic_answers_structured_outputs_with_json_text(
    fake: FakeLLM, claude: anthropic.AsyncAnthropic
) -> None:
    message = await claude.messages.create(
        model="claude-sonnet-5-5",
        max_tokens=4096,
        system=SYSTEM_PROMPT,
        messages=[{"role": "user", "content": user_message(TEXT, CONTEXT)}],
        output_config={"format": {"type": "json_schema", "schema": output_schema()}},
    )

    assert message.stop_reason == "end_turn"
    [block] = message.content
    assert block.type == "text"
    assert items_of(ChunkOutput.model_validate_json(block.text)) == expected_items()


@pytest.mark.parametrize(
    ("model", "options", "fragment"),
    [
        (
            "claude-sonnet-5-5",
            {
                "tools": [{"name": TOOL_NAME, "input_schema": output_schema()}],
                "tool_choice": {"type": "tool", "name": TOOL_NAME},
            },
            "forcing a tool is not supported",
        ),
        (
            "claude-opus-4-1-20250805",
            {"output_config": {"format": {"type": "json_schema", "schema": output_schema()}}},
            "structured outputs are not supported",
        ),
    ],
)
async def test_anthropic_refuses_what_the_model_does_not_take(
    claude: anthropic.AsyncAnthropic, model: str, options: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(anthropic.BadRequestError, match=fragment):
        await claude.messages.create(
            model=model,
            max_tokens=100,
            messages=[{"role": "user", "content": user_message(TEXT, CONTEXT)}],
            **options,
        )


@pytest.mark.parametrize(
    ("options", "fragment"),
    [({"temperature": 0.0}, "'temperature' does not support"), ({"max_tokens": 100}, "max_tokens")],
)
async def test_openai_reasoning_models_refuse_a_temperature_and_max_tokens(
    gpt: openai.AsyncOpenAI, options: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(openai.BadRequestError, match=fragment):
        await gpt.chat.completions.create(
            model="gpt-5",
            messages=[{"role": "user", "content": user_message(TEXT, CONTEXT)}],
            **options,
        )
    # Without them the same request is answered.
    response = await gpt.chat.completions.create(
        model="gpt-5", messages=[{"role": "user", "content": user_message(TEXT, CONTEXT)}]
    )
    assert response.choices[0].finish_reason == "stop"


async def test_an_anthropic_error_code_reaches_the_sdk(
    fake: FakeLLM, claude: anthropic.AsyncAnthropic
) -> None:
    fake.add(status(429, error_code="enforced_spend_limit_reached"))
    with pytest.raises(anthropic.RateLimitError) as raised:
        await ask_anthropic(claude)
    assert raised.value.error_code == "enforced_spend_limit_reached"
