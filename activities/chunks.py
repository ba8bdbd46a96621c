"""The chunk activity: parse one chunk with its provider and keep the result exactly once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from activities.jobs import non_retryable
from activities.types import ParseChunkInput, ParseChunkResult
from playparse.db import jobs as jobs_repo
from playparse.db.models import ChunkResult
from playparse.errors import PlayparseError
from playparse.llm.base import Providers
from playparse.schema import ChunkContext


class ChunkActivities:
    """Activities on single chunks; dependencies come from worker.py."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], providers: Providers) -> None:
        self._sessions = sessions
        self._providers = providers

    @activity.defn(name="parse_chunk")
    async def parse_chunk(self, input: ParseChunkInput) -> ParseChunkResult:
        """Parse chunk `index` of a job, unless a result for it is already stored."""
        async with self._sessions() as session:
            stored = await session.get(ChunkResult, (input.job_id, input.index))
            if stored is not None:
                return ParseChunkResult(
                    input.job_id, input.index, stored.lines, stored.chars, reused=True
                )
            chunk, text = await jobs_repo.chunk_with_text(
                session, job_id=input.job_id, index=input.index
            )
        context = ChunkContext.model_validate(chunk.context)
        try:
            provider = self._providers.get(input.provider)
            result = await heartbeating(provider.parse_chunk(text, context, model=input.model))
        except PlayparseError as error:
            raise non_retryable(error) from error
        lines = [item for item in result.parse.items if item.type == "line"]
        chars = sum(
            len(item.text) for item in result.parse.items if item.type in ("line", "direction")
        )
        async with self._sessions.begin() as session:
            new = await jobs_repo.store_chunk_result(
                session,
                row={
                    "job_id": input.job_id,
                    "index": input.index,
                    "provider": input.provider,
                    "model": input.model,
                    "result": result.parse.model_dump(mode="json"),
                    "lines": len(lines),
                    "chars": chars,
                    "input_tokens": result.input_tokens,
                    "output_tokens": result.output_tokens,
                },
            )
            job = await jobs_repo.get_job(session, job_id=input.job_id)
            if job is None:
                raise ApplicationError("job vanished", type="JobNotFound", non_retryable=True)
            if new:
                await jobs_repo.add_event(
                    session,
                    job=job,
                    kind="chunk",
                    detail={
                        "index": input.index,
                        "lines": len(lines),
                        "chars": chars,
                        "chunks_done": job.chunks_done,
                        "chunks_total": job.chunks_total,
                    },
                )
        return ParseChunkResult(input.job_id, input.index, len(lines), chars, reused=not new)
