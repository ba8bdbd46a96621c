"""Storing finished chunks in group commits.

Chunks of a job in parallel finish together, and each would otherwise wait its turn for the
job row (and, on SQLite, for the database's one writer) to run its own transaction. Here a
chunk that finishes while a batch is being written joins the next batch, so a transaction
stores every chunk that finished meanwhile; with one chunk at a time a batch is that chunk.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from playparse.db import chunks as chunks_repo
from playparse.db.chunks import CountedChunk, FinishedChunk

# Chunks per transaction at most: large enough for every LLM slot of a worker, small enough
# that one transaction stays short.
MAX_BATCH = 64


class ChunkWriter:
    """One per worker process; `store` returns once the chunk's transaction has committed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._waiting: list[tuple[FinishedChunk, asyncio.Future[CountedChunk | None]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def store(self, chunk: FinishedChunk) -> CountedChunk | None:
        """Store the chunk; the job as it counted it, or None when it was already stored."""
        future: asyncio.Future[CountedChunk | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((chunk, future))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write())
        # A cancelled activity stops waiting; its chunk is still stored with the batch.
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch = self._waiting[:MAX_BATCH]
            del self._waiting[:MAX_BATCH]
            try:
                try:
                    await self._commit(batch)
                except Exception:
                    if len(batch) == 1:
                        raise
                    # Alone, a chunk that cannot be stored fails only its own attempt.
                    for entry in batch:
                        try:
                            await self._commit([entry])
                        except Exception as error:
                            _fail(entry[1], error)
            except Exception as error:
                _fail(batch[0][1], error)
            except BaseException:
                for _, future in [*batch, *self._waiting]:
                    future.cancel()
                self._waiting.clear()
                raise

    async def _commit(
        self, batch: list[tuple[FinishedChunk, asyncio.Future[CountedChunk | None]]]
    ) -> None:
        async with self._sessions.begin() as session:
            counted = await chunks_repo.store_finished(session, [chunk for chunk, _ in batch])
        for (_, future), job in zip(batch, counted, strict=True):
            if not future.done():
                future.set_result(job)


def _fail(future: asyncio.Future[CountedChunk | None], error: Exception) -> None:
    """The chunk's attempt fails with the error; Temporal retries it."""
    if not future.done():
        future.set_exception(error)
