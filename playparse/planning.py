"""Planning a play: the outline pre-scan and the chunk cuts, optionally in child processes.

Planning is pure CPU (about 0.2 s for a long play). Run in a thread of the worker it holds the
interpreter lock against the worker's event loop, which hands chunks to the provider: twenty
plays submitted at once left the provider's places idle a sixth of the time while they were
planned (bench/README.md). `PlanningProcesses` runs it in spawned child processes instead,
started and warmed when the worker starts, so no job waits for a process to start.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from playparse import chunking, outline
from playparse.lifetime import die_with_parent

# The play's outline and its chunks.
Plan = tuple[outline.Outline, list[chunking.Chunk]]


def plan_play(text: str, chunk_size: int) -> Plan:
    """The play's outline and its chunks (the front matter kept in the first chunk)."""
    play_outline = outline.scan(text)
    chunks = chunking.plan_chunks(
        text, chunk_size, keep_together=play_outline.front_matter_end or 0
    )
    return play_outline, chunks


class PlanningProcesses:
    """A pool of `processes` child processes that plan plays; one per worker process."""

    def __init__(self, processes: int) -> None:
        self._processes = processes
        self._closed = False
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # Spawned, not forked: the worker has threads (the Temporal runtime's) by now.
        return ProcessPoolExecutor(
            self._processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=die_with_parent,
        )

    async def warm(self) -> None:
        """Start every process and import the planner in it before the first job needs it."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._pool, plan_play, "", 1000) for _ in range(self._processes))
        )

    async def plan(self, text: str, chunk_size: int) -> Plan:
        """Plan in a child process; a dead process (killed, out of memory) is replaced.

        A plan abandoned half-way (the activity cancelled or timed out) ends its process too:
        left running, it would hold the pool while the next attempt, and every other job's
        planning, queued behind it.
        """
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, plan_play, text, chunk_size
            )
        except BrokenProcessPool as error:
            if not self._closed:
                self._restart()
            # Retryable: the next attempt plans in a new process.
            raise RuntimeError("a planning process ended before it answered") from error
        except asyncio.CancelledError:
            if not self._closed:
                self._restart()
            raise

    def _restart(self) -> None:
        """End the pool's processes, whatever they are doing, and start new ones."""
        self._end()
        self._pool = self._start()

    def _end(self) -> None:
        # ProcessPoolExecutor has no public way to stop a running task before Python 3.14.
        children = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for child in children:
            child.terminate()

    def close(self) -> None:
        """Stop now: a plan still running is abandoned (its activity is retried elsewhere),
        so a stopping worker does not wait the minutes a huge play may take."""
        self._closed = True
        self._end()
        self._pool.shutdown(wait=True)
