"""The benchmark's bare Temporal reference replays a job's requests exactly, C at a time."""

from __future__ import annotations

import uuid

import openai
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare_temporal import recorded_requests
from bench.bare_worker import BareWindowWorkflow, RecordedRequests, WindowInput
from bench.fake_llm import FakeLLM
from playparse.llm.prompt import SYSTEM_PROMPT, TEMPERATURE, TOOL_NAME, output_schema, user_message
from playparse.schema import ChunkContext

CHUNKS = 9
WINDOW = 3
TEXT = "HAMLET. To be, or not to be, that is the question.\n\nOPHELIA. My lord?\n"


async def record(fake: FakeLLM) -> None:
    """One answered request per chunk, sent by the OpenAI SDK in reverse chunk order."""
    async with openai.AsyncOpenAI(
        base_url=fake.base_url_openai, api_key="sk-bare-test", max_retries=0
    ) as client:
        for index in reversed(range(CHUNKS)):
            await client.chat.completions.create(
                model="gpt-fake",
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": user_message(TEXT, ChunkContext(index=index))},
                ],
                temperature=TEMPERATURE,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": TOOL_NAME, "strict": True, "schema": output_schema()},
                },
            )


async def test_the_bare_workflow_replays_each_request_once_within_its_window(
    temporal: Client, task_queue: str
) -> None:
    async with FakeLLM(latency=0.2, concurrency=WINDOW) as fake:
        await record(fake)
        requests = recorded_requests([entry.to_json() for entry in fake.log])
        assert [request["raw"] for request in requests] == [
            entry.raw for entry in reversed(fake.log.entries)
        ]
        fake.clear()
        async with Worker(
            temporal,
            task_queue=task_queue,
            workflows=[BareWindowWorkflow],
            activities=[RecordedRequests(requests, fake.base_url).send],
        ):
            done = await temporal.execute_workflow(
                BareWindowWorkflow.run,
                WindowInput(calls=CHUNKS, window=WINDOW),
                id=f"bare-{uuid.uuid4().hex[:8]}",
                task_queue=task_queue,
            )
        assert done == CHUNKS
        replayed = list(fake.log)
        assert fake.peak_in_flight == WINDOW
        # The fake refuses a request beyond its concurrency of WINDOW with a 429.
        assert [entry.status for entry in replayed] == [200] * CHUNKS
        assert sorted(entry.raw for entry in replayed) == sorted(r["raw"] for r in requests)
        assert all(
            entry.headers.get("authorization") == "Bearer sk-bare-test" for entry in replayed
        )


async def test_a_log_without_every_chunk_is_refused() -> None:
    async with FakeLLM() as fake:
        await record(fake)
        entries = [entry.to_json() for entry in fake.log]
    del entries[4]
    for log in (entries, []):
        with pytest.raises(ValueError, match="every chunk"):
            recorded_requests(log)
