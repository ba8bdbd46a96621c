"""The chunk activity: parse one chunk with its provider and keep the result exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from activities.jobs import non_retryable
from activities.types import ParseChunkInput, ParseChunkResult
from playparse.db import jobs as jobs_repo
from playparse.db.models import ChunkResult
from playparse.errors import PlayparseError
from playparse.jobs import JobError, JobStatus
from playparse.llm.base import ProviderError, Providers
from playparse.schema import ChunkContext


class ChunkActivities:
    """Activities on single chunks; dependencies come from worker.py."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], providers: Providers) -> None:
        self._sessions = sessions
        self._providers = providers

    @activity.defn(name="parse_chunk")
    async def parse_chunk(self, input: ParseChunkInput) -> ParseChunkResult:
        """Parse chunk `index` of a job, unless a result for it is already stored.

        Temporal's retries are invisible to the workflow, so this activity itself shows the job
        as `retrying` (attempt and error) before it raises a retryable error, and as `running`
        again when a later attempt succeeds.
        """
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
        except ProviderError as error:
            if not error.retryable:
                raise non_retryable(error) from error
            await self._show_retrying(input, error.type, error.message)
            delay = timedelta(seconds=error.retry_after) if error.retry_after else None
            raise ApplicationError(
                error.message, type=error.type, next_retry_delay=delay
            ) from error
        except PlayparseError as error:
            raise non_retryable(error) from error
        except Exception as error:
            # An unexpected fault (a bug, a dropped connection) gets Temporal's retries too.
            await self._show_retrying(input, type(error).__name__, str(error) or repr(error))
            raise
        lines = [item for item in result.parse.items if item.type == "line"]
        chars = sum(
            len(item.text) for item in result.parse.items if item.type in ("line", "direction")
        )
        speakers = sorted({label for item in lines for label in item.speakers})
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
                    "speakers": speakers,
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
                        "attempt": activity.info().attempt,
                    },
                )
            if job.status == JobStatus.RETRYING.value:
                await jobs_repo.record_state(
                    session,
                    job_id=input.job_id,
                    status=JobStatus.RUNNING,
                    event="recovered",
                    detail={"chunk": input.index, "attempt": activity.info().attempt},
                )
        return ParseChunkResult(input.job_id, input.index, len(lines), chars, reused=not new)

    async def _show_retrying(self, input: ParseChunkInput, kind: str, message: str) -> None:
        """Record `retrying` unless this was the last attempt (the workflow then fails the job)."""
        info = activity.info()
        policy = info.retry_policy
        if (
            policy is not None
            and policy.maximum_attempts
            and info.attempt >= policy.maximum_attempts
        ):
            return
        async with self._sessions.begin() as session:
            await jobs_repo.record_state(
                session,
                job_id=input.job_id,
                status=JobStatus.RETRYING,
                event="retrying",
                detail={"chunk": input.index, "attempt": info.attempt, "error": message},
                error=JobError(kind, f"chunk {input.index}: {message}", True, input.index),
                attempt=info.attempt,
            )
