"""Job-level activities: extract the text, plan the chunks, assemble and save, record state."""

from __future__ import annotations

import asyncio
import hashlib

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from activities.types import (
    AssembleResult,
    ExtractResult,
    JobRef,
    PlanResult,
    RecordStateInput,
)
from playparse import assemble, outline
from playparse.config import Settings
from playparse.db import chunks as chunks_repo
from playparse.db import jobs as jobs_repo
from playparse.db import llm as llm_repo
from playparse.db import plays as plays_repo
from playparse.db.models import Document, Job
from playparse.errors import DocumentError, PlayparseError
from playparse.extraction import DocumentFormat, extract
from playparse.extraction.errors import NoTextFound
from playparse.jobs import JobError, JobStage, JobStatus
from playparse.llm.base import LLM_PROVIDERS, default_model
from playparse.llm.prompt import PROMPT_VERSION
from playparse.planning import PlanningProcesses, plan_play
from playparse.schema import ChunkParse


def non_retryable(error: PlayparseError) -> ApplicationError:
    """A permanent fault as Temporal sees it: typed, readable and never retried."""
    return ApplicationError(error.message, type=error.type, non_retryable=True)


class JobActivities:
    """Activities that act on a whole job; dependencies come from worker.py."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        planner: PlanningProcesses | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        # Without child processes planning runs in a thread (tests, small deployments).
        self._planner = planner
        self._extractions = asyncio.Semaphore(settings.max_concurrent_extractions)

    async def _job(self, session: AsyncSession, job_id: str) -> Job:
        job = await jobs_repo.get_job(session, job_id=job_id)
        if job is None:
            raise ApplicationError(
                f"job {job_id} does not exist", type="JobNotFound", non_retryable=True
            )
        return job

    @activity.defn(name="extract_text")
    async def extract_text(self, ref: JobRef) -> ExtractResult:
        """Turn the uploaded bytes into normalised text stored beside the document."""
        async with self._sessions() as session:
            job = await self._job(session, ref.job_id)
            document = await session.get(Document, job.document_id)
            assert document is not None
            length = await jobs_repo.document_text_length(session, document_id=document.id)
            if length:
                return ExtractResult(
                    ref.job_id, chars=length, pages=document.pages, format=document.format
                )
            await session.refresh(document, ["content"])
            content = document.content
        try:
            extracted = await heartbeating(
                extract(
                    content,
                    fmt=DocumentFormat(job.format),
                    timeout_s=self._settings.extraction_timeout_s,
                    memory_mb=self._settings.extraction_memory_mb,
                    processes=self._extractions,
                )
            )
            if not extracted.text.strip():
                raise NoTextFound("the file contains no text")
        except DocumentError as error:
            raise non_retryable(error) from error
        async with self._sessions.begin() as session:
            await jobs_repo.store_text(
                session,
                document_id=document.id,
                text=extracted.text,
                pages=extracted.pages,
                encoding=extracted.encoding,
            )
        return ExtractResult(
            ref.job_id, chars=len(extracted.text), pages=extracted.pages, format=document.format
        )

    @activity.defn(name="plan_chunks")
    async def plan_chunks(self, ref: JobRef) -> PlanResult:
        """Cut the text into chunks at speech boundaries and pre-scan its outline."""
        async with self._sessions() as session:
            job = await self._job(session, ref.job_id)
            document = await session.get(Document, job.document_id)
            assert document is not None
            await session.refresh(document, ["text"])
            text = document.text or ""
        planning = (
            asyncio.to_thread(plan_play, text, job.chunk_size)
            if self._planner is None
            else self._planner.plan(text, job.chunk_size)
        )
        play_outline, chunks = await heartbeating(planning)
        # LLM chunks carry the key their answer is cached under, so the chunk's read finds it.
        llm = job.provider in LLM_PROVIDERS
        model = (job.model or default_model(self._settings, job.provider) or "") if llm else ""
        rows = []
        for chunk in chunks:
            chunk_text = text[chunk.start : chunk.end]
            context = play_outline.context_at(chunk.start, chunk.index).model_dump(mode="json")
            key = (
                llm_repo.cache_key(job.provider, model, PROMPT_VERSION, chunk_text, context)
                if llm
                else None
            )
            rows.append(
                {
                    "index": chunk.index,
                    "start": chunk.start,
                    "end": chunk.end,
                    "sha256": hashlib.sha256(chunk_text.encode()).hexdigest(),
                    "context": context,
                    "cache_key": key,
                }
            )
        async with self._sessions.begin() as session:
            await chunks_repo.store_chunks(session, job_id=ref.job_id, rows=rows)
            job = await self._job(session, ref.job_id)
            job.outline = play_outline.model_dump(mode="json")
            # No chunk of the job runs while a run plans (a continued run waits for its chunks,
            # a retried job's were stopped), so what is still reserved against the budget was
            # left by an attempt lost with its worker and would count against it for good.
            job.reserved_tokens = 0
            job.reserved_usd = 0.0
            await jobs_repo.add_event(
                session, job=job, kind="planned", detail={"chunks": len(rows), "chars": len(text)}
            )
            await chunks_repo.refresh_counters(session, job_id=ref.job_id)
            finished = await chunks_repo.finished_chunk_indexes(session, job_id=ref.job_id)
        return PlanResult(ref.job_id, chunks_total=len(rows), finished=finished)

    @activity.defn(name="assemble_play")
    async def assemble_play(self, ref: JobRef) -> AssembleResult:
        """Merge the chunk results into one validated playbook and save it in one transaction."""
        async with self._sessions() as session:
            job = await self._job(session, ref.job_id)
            results = await chunks_repo.chunk_results(session, job_id=ref.job_id)
            parses = [ChunkParse.model_validate(result.result) for result in results]
            play_outline = outline.Outline.model_validate(job.outline) if job.outline else None
        if len(parses) != job.chunks_total:
            raise ApplicationError(
                f"{job.chunks_total - len(parses)} chunks have no result", type="MissingChunks"
            )
        try:
            playbook = await heartbeating(
                asyncio.to_thread(assemble.assemble, parses, play_outline)
            )
        except PlayparseError as error:
            raise non_retryable(error) from error
        async with self._sessions.begin() as session:
            await jobs_repo.record_state(
                session,
                job_id=ref.job_id,
                stage=JobStage.SAVING.value,
                event="stage",
                detail={"stage": "saving"},
            )
        items = [item for act in playbook.acts for scene in act.scenes for item in scene.items]
        lines = sum(1 for item in items if item.type == "line")
        async with self._sessions.begin() as session:
            play = await plays_repo.save_playbook(
                session, job_id=job.id, tenant_id=job.tenant_id, playbook=playbook
            )
            saved = await self._job(session, ref.job_id)
            saved.play_id = play.id
            # The chunks' running count adds up a speech split across two chunks twice; the
            # job now reports the play's own number, as its `completed` event does (a later
            # recount, refresh_counters, keeps it).
            saved.lines_found = lines
        return AssembleResult(
            job_id=job.id,
            play_id=play.id,
            title=playbook.title,
            characters=len(playbook.characters),
            acts=len(playbook.acts),
            scenes=sum(len(act.scenes) for act in playbook.acts),
            lines=lines,
            directions=len(items) - lines,
        )

    @activity.defn(name="record_state")
    async def record_state(self, state: RecordStateInput) -> bool:
        """Project a workflow state change onto the job row and its event log, once.

        The event carries this activity's run and id, so an attempt that runs again after the
        first one committed (its completion lost with its worker) changes nothing.
        """
        info = activity.info()
        error = (
            JobError(
                state.error.type, state.error.message, state.error.retryable, state.error.chunk
            )
            if state.error is not None
            else None
        )
        async with self._sessions.begin() as session:
            job = await jobs_repo.record_state(
                session,
                job_id=state.job_id,
                status=JobStatus(state.status) if state.status else None,
                stage=state.stage,
                event=state.event,
                detail=state.detail,
                error=error,
                priority=state.priority,
                origin=f"{info.workflow_run_id}/{info.activity_id}",
                retried=info.attempt > 1,
            )
        return job is not None
