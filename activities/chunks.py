"""The chunk activity: parse one chunk with its provider and keep the result exactly once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.chunk_writer import ChunkWriter
from activities.heartbeat import heartbeating
from activities.jobs import non_retryable
from activities.types import ParseChunkInput, ParseChunkResult
from playparse.config import Settings
from playparse.db import chunks as chunks_repo
from playparse.db import jobs as jobs_repo
from playparse.db import llm as llm_repo
from playparse.db.chunks import ChunkWork, CountedChunk, FinishedChunk
from playparse.db.models import utcnow
from playparse.errors import PlayparseError
from playparse.jobs import JobError, JobStatus
from playparse.llm.base import LLM_PROVIDERS, Provider, ProviderError, ProviderResult, Providers
from playparse.llm.pricing import cost_usd, estimate_tokens
from playparse.llm.prompt import PROMPT_VERSION, join_to_previous, prompt_size
from playparse.schema import ChunkContext, ChunkParse

# Waits before storing a parsed chunk again after its transaction failed (a busy or briefly
# unreachable database); within the chunk's heartbeat timeout.
STORE_RETRY_DELAYS_S = (0.5, 1.0, 2.0)


class ChunkActivities:
    """Activities on single chunks; dependencies come from worker.py."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        providers: Providers,
        settings: Settings | None = None,
    ) -> None:
        self._sessions = sessions
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._providers = providers
        self._settings = settings or Settings()
        # Provider requests at once per provider in this process; the worker runs more chunk
        # activities than that, so their database work overlaps other chunks' requests.
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._writer = ChunkWriter(sessions)

    @activity.defn(name="parse_chunk")
    async def parse_chunk(self, input: ParseChunkInput) -> ParseChunkResult:
        """Parse chunk `index` of a job, unless a result for it is already stored.

        Temporal's retries are invisible to the workflow, so this activity itself shows the job
        as `retrying` (attempt and error) before it raises a retryable error, and as `running`
        again when a later attempt succeeds. A chunk reads once and writes once (plus a budget
        reservation before its call when the job has a budget).
        """
        llm = input.provider in LLM_PROVIDERS
        result: ProviderResult | None = None
        cached = False
        key: str | None = None
        # A plain connection: this read needs none of a session's bookkeeping.
        async with self._engine.connect() as connection:
            work = await chunks_repo.chunk_work(
                connection, job_id=input.job_id, index=input.index, provider=input.provider
            )
            if work is None:
                raise ApplicationError("job vanished", type="JobNotFound", non_retryable=True)
            if work.stored is not None:
                return ParseChunkResult(input.job_id, input.index, *work.stored, reused=True)
            try:
                provider = self._providers.get(input.provider)
            except PlayparseError as error:
                raise non_retryable(error) from error
            model = input.model or getattr(provider, "default_model", None)
            if llm:
                key = llm_repo.cache_key(
                    input.provider, model or "", PROMPT_VERSION, work.text, work.context
                )
                if work.fresh:
                    hit = None
                elif key == work.cache_key:
                    # Planned with this key: the read has already looked the answer up.
                    hit = work.cached
                else:
                    hit = await llm_repo.cached_answer(connection, key=key)
                if hit is not None:
                    result = ProviderResult(parse=ChunkParse.model_validate(hit))
                    cached = True
        context = ChunkContext.model_validate(work.context)
        reserved: tuple[int, float] | None = None
        if result is None:
            if llm and work.open_until is not None:
                await self._wait_for_breaker(input, work.open_until)
            reserved = await self._reserve_budget(work, input, model, context)
            try:
                result = await self._call(input, provider, work.text, context, llm)
            except BaseException as error:
                await self._release_budget(input.job_id, reserved, _unused(error, input, model))
                raise
        if llm:
            result = replace(result, parse=join_to_previous(result.parse, context, work.text))
        lines = [item for item in result.parse.items if item.type == "line"]
        chars = sum(
            len(item.text) for item in result.parse.items if item.type in ("line", "direction")
        )
        speakers = sorted({label for item in lines for label in item.speakers})
        parse = result.parse.model_dump(mode="json")
        answer = None
        if key is not None and not cached:
            answer = {
                "key": key,
                "provider": input.provider,
                "model": model or "",
                "prompt_version": PROMPT_VERSION,
                "result": parse,
                "input_tokens": result.input_tokens,
                "output_tokens": result.output_tokens,
            }
        finished = FinishedChunk(
            row={
                "job_id": input.job_id,
                "index": input.index,
                "provider": input.provider,
                "model": input.model,
                "result": parse,
                "lines": len(lines),
                "chars": chars,
                "speakers": speakers,
                "input_tokens": result.input_tokens,
                "output_tokens": result.output_tokens,
                "cost_usd": cost_usd(
                    input.provider, model, result.input_tokens, result.output_tokens
                ),
                "cached": cached,
            },
            attempt=activity.info().attempt,
            answer=answer,
            reserved=reserved,
            # A success ends a run of failures; without failures seen before the call there
            # is nothing to reset, which spares every chunk a write to the shared row.
            reset_breaker=input.provider if llm and work.consecutive_failures else None,
        )
        try:
            counted = await self._store(finished)
        except Exception:
            # The batch was rolled back, its release of the reservation with it; the answer
            # it held was paid for all the same (if the database takes this write at all).
            paid = (0, 0, 0.0)
            if not cached:
                row = finished.row
                paid = (row["input_tokens"], row["output_tokens"], row["cost_usd"])
            await self._release_budget(input.job_id, reserved, paid)
            raise
        reused = counted is None
        return ParseChunkResult(input.job_id, input.index, len(lines), chars, reused=reused)

    async def _store(self, finished: FinishedChunk) -> CountedChunk | None:
        """Store the chunk; a paid answer is tried again a few times before the attempt fails.

        A failed attempt's answer is lost with it (the cache row rolls back with the result),
        so the next attempt would pay the provider again for the same chunk.
        """
        for retry, delay in enumerate(STORE_RETRY_DELAYS_S, start=1):
            try:
                return await self._writer.store(finished)
            except Exception as error:
                activity.logger.warning(
                    "chunk %s not stored (%s); trying again in %.1f s",
                    finished.row["index"],
                    error,
                    delay,
                    extra={"chunk": finished.row["index"], "retry": retry},
                )
                await heartbeating(asyncio.sleep(delay))
        return await self._writer.store(finished)

    async def _call(
        self,
        input: ParseChunkInput,
        provider: Provider,
        text: str,
        context: ChunkContext,
        llm: bool,
    ) -> ProviderResult:
        """One provider call, its failures sorted into retryable and permanent."""

        async def answer() -> ProviderResult:
            # An LLM request first waits for one of its provider's places (heartbeating too).
            if not llm:
                return await provider.parse_chunk(text, context, model=input.model)
            async with self._gate(input.provider):
                return await provider.parse_chunk(text, context, model=input.model)

        try:
            result = await heartbeating(answer())
        except ProviderError as error:
            if not error.retryable:
                raise non_retryable(error) from error
            if llm:
                await self._count_failure(input.provider, error.message)
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
        return result

    def _gate(self, provider: str) -> asyncio.Semaphore:
        """The places of an LLM provider's requests in this process."""
        gate = self._gates.get(provider)
        if gate is None:
            gate = self._gates[provider] = asyncio.Semaphore(
                self._settings.max_concurrent_llm_calls
            )
        return gate

    async def _wait_for_breaker(self, input: ParseChunkInput, until: datetime) -> None:
        """While a provider rests after repeated failures, its chunks wait (shown retrying)."""
        wait = max((until - utcnow()).total_seconds(), 0.1)
        message = f"{input.provider} is resting after repeated failures; next try in {wait:.0f} s"
        await self._show_retrying(input, "ProviderResting", message)
        raise ApplicationError(
            message, type="ProviderResting", next_retry_delay=timedelta(seconds=wait)
        )

    async def _count_failure(self, provider: str, message: str) -> None:
        async with self._sessions.begin() as session:
            await llm_repo.record_failure(
                session,
                provider=provider,
                error=message,
                threshold=self._settings.breaker_threshold,
                cooldown=timedelta(seconds=self._settings.breaker_cooldown_s),
            )

    async def _reserve_budget(
        self, work: ChunkWork, input: ParseChunkInput, model: str | None, context: ChunkContext
    ) -> tuple[int, float] | None:
        """Stop before a chunk whose likely cost would take the job over its budget.

        The likely spending is reserved on the job row, so chunks running in parallel count
        each other before they have spent anything.
        """
        if work.budget_tokens is None and work.budget_usd is None:
            return None
        if input.provider not in LLM_PROVIDERS:
            return None
        text = work.text
        estimate_in, estimate_out = estimate_tokens(
            prompt_size(text, context), len(text), text.count("\n") + 1
        )
        tokens = estimate_in + estimate_out
        usd = cost_usd(input.provider, model, estimate_in, estimate_out)
        async with self._sessions.begin() as session:
            over = await jobs_repo.reserve_budget(
                session, job_id=input.job_id, tokens=tokens, usd=usd
            )
        if over is not None:
            raise ApplicationError(
                f"budget exceeded: {over}, and the next chunk would go over",
                type="BudgetExceeded",
                non_retryable=True,
            )
        return tokens, usd

    async def _release_budget(
        self,
        job_id: str,
        reserved: tuple[int, float] | None,
        unused: tuple[int, int, float] = (0, 0, 0.0),
    ) -> None:
        """Give back the reservation, and count what a failed call paid for anyway."""
        if reserved is None and not any(unused):
            return
        tokens, usd = reserved or (0, 0.0)
        async with self._sessions.begin() as session:
            await jobs_repo.release_budget(
                session, job_id=job_id, tokens=tokens, usd=usd, unused=unused
            )

    async def _show_retrying(self, input: ParseChunkInput, kind: str, message: str) -> None:
        """Record `retrying` unless this was the last attempt (the workflow then fails the job)."""
        info = activity.info()
        activity.logger.warning(
            "chunk %s attempt %s failed (%s)",
            input.index,
            info.attempt,
            kind,
            extra={"chunk": input.index, "provider": input.provider},
        )
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


def _unused(
    error: BaseException, input: ParseChunkInput, model: str | None
) -> tuple[int, int, float]:
    """Tokens and cost a failed call paid for (its error, or the one it was raised from)."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, PlayparseError):
        cause = cause.__cause__
    if cause is None or not any(cause.spent):
        return (0, 0, 0.0)
    input_tokens, output_tokens = cause.spent
    return (
        input_tokens,
        output_tokens,
        cost_usd(input.provider, model, input_tokens, output_tokens),
    )
