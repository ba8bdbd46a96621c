"""The chunk activity: parse one chunk with its provider and keep the result exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from activities.jobs import non_retryable
from activities.types import ParseChunkInput, ParseChunkResult
from playparse.config import Settings
from playparse.db import jobs as jobs_repo
from playparse.db import llm as llm_repo
from playparse.db.models import ChunkResult, Job, utcnow
from playparse.errors import PlayparseError
from playparse.jobs import JobError, JobStatus
from playparse.llm.base import LLM_PROVIDERS, Provider, ProviderError, ProviderResult, Providers
from playparse.llm.pricing import cost_usd, estimate_tokens
from playparse.llm.prompt import PROMPT_VERSION, prompt_size
from playparse.schema import ChunkContext, ChunkParse


class ChunkActivities:
    """Activities on single chunks; dependencies come from worker.py."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        providers: Providers,
        settings: Settings | None = None,
    ) -> None:
        self._sessions = sessions
        self._providers = providers
        self._settings = settings or Settings()

    @activity.defn(name="parse_chunk")
    async def parse_chunk(self, input: ParseChunkInput) -> ParseChunkResult:
        """Parse chunk `index` of a job, unless a result for it is already stored.

        Temporal's retries are invisible to the workflow, so this activity itself shows the job
        as `retrying` (attempt and error) before it raises a retryable error, and as `running`
        again when a later attempt succeeds.
        """
        llm = input.provider in LLM_PROVIDERS
        result: ProviderResult | None = None
        reserved: tuple[int, float] | None = None
        cached = False
        key: str | None = None
        # One read for everything the chunk needs: a stored result, its text, the job, a cached
        # provider answer.
        async with self._sessions() as session:
            stored = await session.get(ChunkResult, (input.job_id, input.index))
            if stored is not None:
                return ParseChunkResult(
                    input.job_id, input.index, stored.lines, stored.chars, reused=True
                )
            try:
                provider = self._providers.get(input.provider)
            except PlayparseError as error:
                raise non_retryable(error) from error
            model = input.model or getattr(provider, "default_model", None)
            chunk, text = await jobs_repo.chunk_with_text(
                session, job_id=input.job_id, index=input.index
            )
            job = await jobs_repo.get_job(session, job_id=input.job_id)
            if llm:
                key = llm_repo.cache_key(
                    input.provider, model or "", PROMPT_VERSION, text, chunk.context
                )
                hit = (
                    None
                    if job is None or job.fresh
                    else await llm_repo.cached_answer(session, key=key)
                )
                if hit is not None:
                    result = ProviderResult(parse=ChunkParse.model_validate(hit.result))
                    cached = True
        if job is None:
            raise ApplicationError("job vanished", type="JobNotFound", non_retryable=True)
        context = ChunkContext.model_validate(chunk.context)
        if result is None:
            if llm:
                await self._check_breaker(input)
            reserved = await self._reserve_budget(job, input, model, text, context)
            try:
                result = await self._call(input, provider, text, context, llm)
            except BaseException:
                await self._release_budget(input.job_id, reserved)
                raise
            if key is not None:
                async with self._sessions.begin() as session:
                    await llm_repo.keep_answer(
                        session,
                        row={
                            "key": key,
                            "provider": input.provider,
                            "model": model or "",
                            "prompt_version": PROMPT_VERSION,
                            "result": result.parse.model_dump(mode="json"),
                            "input_tokens": result.input_tokens,
                            "output_tokens": result.output_tokens,
                        },
                    )
        lines = [item for item in result.parse.items if item.type == "line"]
        chars = sum(
            len(item.text) for item in result.parse.items if item.type in ("line", "direction")
        )
        speakers = sorted({label for item in lines for label in item.speakers})
        async with self._sessions.begin() as session:
            if reserved is not None:
                await jobs_repo.release_budget(
                    session, job_id=input.job_id, tokens=reserved[0], usd=reserved[1]
                )
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
                    "cost_usd": cost_usd(
                        input.provider, model, result.input_tokens, result.output_tokens
                    ),
                    "cached": cached,
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
                        "cached": cached,
                        "input_tokens": result.input_tokens,
                        "output_tokens": result.output_tokens,
                    },
                )
            # Only the chunk that was being retried ends the job's `retrying`; other chunks
            # finishing meanwhile leave it, since that chunk still waits for its next attempt.
            if job.status == JobStatus.RETRYING.value and activity.info().attempt > 1:
                await jobs_repo.record_state(
                    session,
                    job_id=input.job_id,
                    status=JobStatus.RUNNING,
                    event="recovered",
                    detail={"chunk": input.index, "attempt": activity.info().attempt},
                )
        return ParseChunkResult(input.job_id, input.index, len(lines), chars, reused=not new)

    async def _call(
        self,
        input: ParseChunkInput,
        provider: Provider,
        text: str,
        context: ChunkContext,
        llm: bool,
    ) -> ProviderResult:
        """One provider call, its failures sorted into retryable and permanent."""
        try:
            result = await heartbeating(provider.parse_chunk(text, context, model=input.model))
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
        if llm:
            async with self._sessions.begin() as session:
                await llm_repo.record_success(session, provider=input.provider)
        return result

    async def _check_breaker(self, input: ParseChunkInput) -> None:
        """While a provider rests after repeated failures, its chunks wait (shown retrying)."""
        async with self._sessions() as session:
            until = await llm_repo.breaker_open_until(session, provider=input.provider)
        if until is None:
            return
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
        self, job: Job, input: ParseChunkInput, model: str | None, text: str, context: ChunkContext
    ) -> tuple[int, float] | None:
        """Stop before a chunk whose likely cost would take the job over its budget.

        The likely spending is reserved on the job row, so chunks running in parallel count
        each other before they have spent anything.
        """
        if job.budget_tokens is None and job.budget_usd is None:
            return None
        if input.provider not in LLM_PROVIDERS:
            return None
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

    async def _release_budget(self, job_id: str, reserved: tuple[int, float] | None) -> None:
        if reserved is None:
            return
        async with self._sessions.begin() as session:
            await jobs_repo.release_budget(
                session, job_id=job_id, tokens=reserved[0], usd=reserved[1]
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
