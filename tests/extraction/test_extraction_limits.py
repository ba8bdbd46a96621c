"""Limits on the parser process: time, memory, cancellation, and a free event loop."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from playparse.extraction import extract
from playparse.extraction.errors import ExtractionLimitExceeded
from tests.extraction.builders import play_pdf, slow_pdf


def sandbox_children() -> list[int]:
    """Ids of this process's sandbox children still alive (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = next(line for line in status.splitlines() if line.startswith("PPid:"))
        if int(parent.split()[1]) == os.getpid() and b"playparse.extraction.sandbox" in command:
            found.append(int(entry.name))
    return found


async def test_a_slow_document_hits_the_time_limit_and_its_process_is_killed() -> None:
    started = time.perf_counter()
    with pytest.raises(ExtractionLimitExceeded) as caught:
        await extract(slow_pdf(), timeout_s=1.0)
    assert time.perf_counter() - started < 3
    assert caught.value.type == "ExtractionLimitExceeded"
    assert caught.value.limit == "time"
    assert caught.value.message == (
        "Reading the PDF file took longer than 1 s, the limit for one document."
    )
    assert sandbox_children() == []


async def test_a_hungry_document_hits_the_memory_limit() -> None:
    with pytest.raises(ExtractionLimitExceeded) as caught:
        await extract(slow_pdf(150_000), memory_mb=64, timeout_s=20)
    assert caught.value.limit == "memory"
    assert caught.value.message == (
        "Reading the PDF file needed more than 64 MB of memory, the limit for one document."
    )


async def test_cancelling_the_caller_kills_the_parser() -> None:
    task = asyncio.create_task(extract(slow_pdf(), timeout_s=30))
    await asyncio.sleep(0.5)
    assert len(sandbox_children()) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sandbox_children() == []


async def test_the_event_loop_keeps_running_while_a_document_is_parsed() -> None:
    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        extracted = await extract(play_pdf(200))
    finally:
        ticker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await ticker
    assert extracted.pages is not None and extracted.pages > 20
    assert len(gaps) > 10 and max(gaps) < 0.1


async def test_extractions_beyond_the_callers_processes_wait_their_turn() -> None:
    processes = asyncio.Semaphore(2)
    most = 0

    async def watch() -> None:
        nonlocal most
        while True:
            most = max(most, len(sandbox_children()))
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(
            *(extract(play_pdf(40), processes=processes, timeout_s=30) for _ in range(4)),
            extract(b"HAMLET. To be, or not to be.\n", processes=processes),
        )
    finally:
        watcher.cancel()
        with pytest.raises(asyncio.CancelledError):
            await watcher
    assert most == 2, "at most two parsing processes, and both were used"
    assert all(r.pages is not None and r.pages > 3 for r in results[:4])
    # Plain text is decoded in this process and never waits for a parsing process.
    assert results[4].text.startswith("HAMLET.")
    assert sandbox_children() == []
