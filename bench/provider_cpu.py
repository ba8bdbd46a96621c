"""CPU one LLM request costs the worker: OpenAIProvider against the fake, ten at a time.

    python -m bench.provider_cpu [--requests N]

The fake runs as its own process (its CPU is not counted); this process sends the requests
through the same provider code the chunk activity uses (the official SDK, prompt, output
validation) and prints its own CPU time per request, and the CPU of the SDK's parameter
transform on its own, which `chat.completions.create` would add (the provider sends its body
through the client's `post` instead). Nothing is written to the results: bench/README.md records
what it found.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time

from openai._utils import async_maybe_transform
from openai.types.chat import completion_create_params

from bench.harness import EXAMPLE_PLAY
from playparse.chunking import plan_chunks
from playparse.llm.openai_provider import OpenAIProvider
from playparse.llm.prompt import SYSTEM_PROMPT, user_message
from playparse.llm.structured import Endpoint
from playparse.loop import run
from playparse.schema import ChunkContext

AT_ONCE = 10


async def measure(base_url: str, requests: int) -> None:
    provider = OpenAIProvider(Endpoint(api_key="bench", base_url=base_url, default_model="m"))
    text = EXAMPLE_PLAY.read_text()
    chunks = [text[c.start : c.end] for c in plan_chunks(text, 665)][:AT_ONCE]
    context = ChunkContext()

    async def wave() -> None:
        await asyncio.gather(
            *(provider.parse_chunk(chunk, context, model=None) for chunk in chunks)
        )

    await wave()  # the fake computes and keeps its answers; the pool opens its connections
    waves = max(1, requests // AT_ONCE)
    cpu = time.process_time()
    for _ in range(waves):
        await wave()
    per_request = (time.process_time() - cpu) / (waves * AT_ONCE)
    print(f"provider request, {AT_ONCE} at a time: {per_request * 1e3:.2f} ms of CPU each")

    params = {
        "model": "m",
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_message(chunks[0], context)},
        ],
        "temperature": 0.0,
        "max_completion_tokens": 8192,
        "response_format": provider._format,
    }
    kind = completion_create_params.CompletionCreateParamsNonStreaming
    cpu = time.process_time()
    for _ in range(requests):
        await async_maybe_transform(params, kind)
    transform = (time.process_time() - cpu) / requests
    print(f"  chat.completions.create would add its parameter transform: {transform * 1e3:.2f} ms")
    await provider.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.provider_cpu", description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_llm", "--latency", "0.1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake.stdout is not None
        found = re.search(r"openai=(\S+)", fake.stdout.readline())
        if found is None:
            raise RuntimeError("the fake LLM did not start")
        run(measure(found[1], args.requests))
    finally:
        fake.terminate()
        fake.wait()


if __name__ == "__main__":
    main()
