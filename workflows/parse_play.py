"""ParsePlayWorkflow: one durable parse job, from uploaded file to saved playbook."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.common import Priority
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from activities.chunks import ChunkActivities
    from activities.jobs import JobActivities
    from activities.types import (
        JobErrorInfo,
        JobRef,
        ParseChunkInput,
        RecordStateInput,
    )
    from playparse.jobs import JobAction, JobStage, JobStatus, allowed_actions
    from playparse.llm.base import LLM_PROVIDERS
    from playparse.temporal import JOB_STATUS, PRIORITY, temporal_priority
    from workflows import policies


# The states in which a requested pause is still waiting for running chunks to finish.
ACTIVE = (JobStatus.RUNNING.value, JobStatus.RETRYING.value, JobStatus.QUEUED.value)


@dataclass
class ParsePlayInput:
    job_id: str
    provider: str = "heuristic"
    model: str | None = None
    priority: int = 3
    filename: str = ""
    # Chunks parsed at once; 1 for runs recorded before jobs had a window.
    concurrency: int = 1
    # Set when the run continues as new, so the next run picks up where this one stopped.
    paused: bool = False


@dataclass
class ParsePlayResult:
    job_id: str
    play_id: str
    title: str
    chunks: int
    characters: int
    acts: int
    scenes: int
    lines: int
    directions: int


@dataclass
class Progress:
    status: str = JobStatus.QUEUED.value
    stage: str | None = None
    chunks_done: int = 0
    chunks_total: int = 0
    paused: bool = False
    finished: list[int] = field(default_factory=list)


@workflow.defn
class ParsePlayWorkflow:
    """Extract, plan, parse chunk by chunk, assemble; every state change is projected to the DB."""

    def __init__(self) -> None:
        self._progress = Progress()
        self._pause_requested = False
        self._priority = Priority()
        self._input: ParsePlayInput | None = None
        self._failed_chunk: int | None = None
        self._requested_priority: int | None = None

    # Signals are for people at the Temporal CLI and Web UI; they cannot be refused. The API
    # uses the updates below, whose validators refuse what the job's state does not allow
    # before anything enters the history.

    @workflow.signal
    def pause(self) -> None:
        """Stop starting new chunks; chunks already running finish and are kept."""
        self._pause_requested = True

    @workflow.signal
    def resume(self) -> None:
        """Carry on with the next chunk."""
        self._pause_requested = False

    @workflow.update
    def pause_job(self) -> Progress:
        """Like the pause signal; once this returns, the workflow schedules no further chunk."""
        self._pause_requested = True
        return self._progress

    @pause_job.validator
    def _validate_pause(self) -> None:
        if self._pause_requested and self._progress.status in ACTIVE:
            # Already pausing (chunks still running): the job still shows running or
            # retrying, with pause among its actions, so pausing again is accepted, as no-op.
            return
        self._require(JobAction.PAUSE)

    @workflow.update
    def resume_job(self) -> Progress:
        self._pause_requested = False
        return self._progress

    @resume_job.validator
    def _validate_resume(self) -> None:
        self._require(JobAction.RESUME)

    @workflow.update
    async def set_priority(self, priority: int) -> Progress:
        """Change the priority of the chunks not yet started (5 most urgent, 1 least)."""
        self._priority = temporal_priority(priority)
        self._requested_priority = priority
        if self._input is not None:
            self._input.priority = priority
        workflow.upsert_search_attributes([PRIORITY.value_set(priority)])
        await self._record(
            RecordStateInput(
                job_id=workflow.info().workflow_id,
                event="priority",
                detail={"priority": priority},
                priority=priority,
            )
        )
        return self._progress

    @set_priority.validator
    def _validate_priority(self, priority: int) -> None:
        if not 1 <= priority <= 5:
            raise ApplicationError(
                "priority must be between 1 and 5", type="InvalidPriority", non_retryable=True
            )
        if self._effective_status().is_final:
            self._require(None)

    @workflow.query
    def progress(self) -> Progress:
        return self._progress

    def _effective_status(self) -> JobStatus:
        """The status that decides which actions are allowed; a requested pause counts."""
        status = JobStatus(self._progress.status)
        if self._pause_requested and not status.is_final:
            return JobStatus.PAUSED
        return status

    def _require(self, action: JobAction | None) -> None:
        status = self._effective_status()
        allowed = allowed_actions(status)
        if action is None or action.value not in allowed:
            verb = action.value if action else "change"
            raise ApplicationError(
                f"cannot {verb} a job that is {status.value}",
                {"status": status.value, "allowed_actions": allowed},
                type="JobStateError",
                non_retryable=True,
            )

    @workflow.run
    async def run(self, input: ParsePlayInput) -> ParsePlayResult:
        self._input = input
        if self._requested_priority is not None:
            # A priority change that arrived with the first task outranks the submitted one.
            input.priority = self._requested_priority
        self._pause_requested = self._pause_requested or input.paused
        self._priority = temporal_priority(input.priority)
        try:
            # A job paused while queued stays paused until it is resumed. Runs recorded before
            # this existed went straight to extraction; the patch keeps them replaying.
            if workflow.patched("pause-while-queued"):
                await self._wait_while_paused()
            await self._set_state(JobStatus.RUNNING, JobStage.EXTRACTING, "started")
            await workflow.execute_activity_method(
                JobActivities.extract_text,
                JobRef(input.job_id),
                start_to_close_timeout=policies.EXTRACT_TIMEOUT,
                heartbeat_timeout=policies.EXTRACT_HEARTBEAT,
                retry_policy=policies.EXTRACT_RETRY,
                priority=self._priority,
            )
            await self._set_state(None, JobStage.PLANNING, "stage")
            plan = await workflow.execute_activity_method(
                JobActivities.plan_chunks,
                JobRef(input.job_id),
                start_to_close_timeout=policies.PLAN_TIMEOUT,
                heartbeat_timeout=policies.STEP_HEARTBEAT,
                retry_policy=policies.PLAN_RETRY,
                priority=self._priority,
            )
            self._progress.chunks_total = plan.chunks_total
            self._progress.finished = list(plan.finished)
            self._progress.chunks_done = len(plan.finished)
            await self._set_state(None, JobStage.PARSING, "stage")
            await self._parse_chunks(input, plan.chunks_total, set(plan.finished))
            _raise_if_cancel_requested()
            await self._set_state(None, JobStage.ASSEMBLING, "stage")
            assembled = await workflow.execute_activity_method(
                JobActivities.assemble_play,
                JobRef(input.job_id),
                start_to_close_timeout=policies.ASSEMBLE_TIMEOUT,
                heartbeat_timeout=policies.STEP_HEARTBEAT,
                retry_policy=policies.DB_RETRY,
                # A cancel while the play is being saved waits for the save: the job then ends
                # completed with its play, never cancelled with a play saved behind it.
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                priority=self._priority,
            )
            await self._finally(
                self._complete(
                    {
                        "play_id": assembled.play_id,
                        "title": assembled.title,
                        "lines": assembled.lines,
                    }
                )
            )
            return ParsePlayResult(
                job_id=input.job_id,
                play_id=assembled.play_id,
                title=assembled.title,
                chunks=plan.chunks_total,
                characters=assembled.characters,
                acts=assembled.acts,
                scenes=assembled.scenes,
                lines=assembled.lines,
                directions=assembled.directions,
            )
        except (asyncio.CancelledError, ActivityError) as error:
            # A cancel shows up as CancelledError, or as the cancelled activity's error when
            # the workflow waited for the activity to stop.
            if is_cancelled_exception(error):
                await self._set_state(
                    JobStatus.CANCELLED,
                    None,
                    "cancelled",
                    {"chunks_done": self._progress.chunks_done},
                )
                raise
            assert isinstance(error, ActivityError)
            failure = _describe(error, self._failed_chunk)
            await self._finally(
                self._set_state(
                    JobStatus.FAILED,
                    None,
                    "failed",
                    {"type": failure.type, "message": failure.message, "chunk": failure.chunk},
                    error=failure,
                )
            )
            raise ApplicationError(
                failure.message, type=failure.type, non_retryable=True
            ) from error

    async def _parse_chunks(self, input: ParsePlayInput, total: int, finished: set[int]) -> None:
        """Parse every unfinished chunk, up to `concurrency` at a time (a sliding window).

        No chunk starts while a pause is requested; the job shows `paused` once the running
        ones have finished. The first chunk that fails for good stops the others and fails the
        job; a cancel stops them all and waits until they have stopped.
        """
        waiting = [index for index in range(total) if index not in finished]
        window = max(1, input.concurrency)
        running: dict[asyncio.Task[object], int] = {}
        try:
            while waiting or running:
                while waiting and len(running) < window and not self._pause_requested:
                    index = waiting.pop(0)
                    running[asyncio.create_task(self._parse_chunk(input, index))] = index
                if not running:
                    await self._wait_while_paused()
                    continue
                done, _ = await workflow.wait(list(running), return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=lambda t: running[t]):
                    index = running.pop(task)
                    if task.exception() is not None:
                        self._failed_chunk = index
                        task.result()
                    self._progress.chunks_done += 1
                _raise_if_cancel_requested()
                self._show_progress(input)
                if workflow.info().is_continue_as_new_suggested():
                    await self._continue_as_new(input, running)
        finally:
            # On a failure or a cancel, stop the chunks still running and wait until they have.
            for task in running:
                task.cancel()
            if running:
                await workflow.wait(list(running))
                for task in running:
                    # Their failures are the cancel's echo; read them so none goes unreported.
                    # A chunk that finished all the same is stored, and counts as done.
                    if not task.cancelled() and task.exception() is None:
                        self._progress.chunks_done += 1

    async def _parse_chunk(self, input: ParsePlayInput, index: int) -> object:
        return await workflow.execute_activity_method(
            ChunkActivities.parse_chunk,
            ParseChunkInput(input.job_id, index, input.provider, input.model),
            task_queue=_chunk_queue(input.provider),
            start_to_close_timeout=policies.CHUNK_TIMEOUT,
            heartbeat_timeout=policies.CHUNK_HEARTBEAT,
            retry_policy=policies.CHUNK_RETRY,
            # Nothing may be written for the job after it ends.
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            priority=self._priority,
        )

    async def _complete(self, detail: dict[str, object]) -> None:
        """Record the job completed, then let updates still running (a priority change) end."""
        await self._set_state(JobStatus.COMPLETED, None, "completed", detail)
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _finally(self, recording: Awaitable[None]) -> None:
        """Record how the job ended, to the end, even if a cancel arrives meanwhile.

        Once the play is saved (or the job has failed) the outcome is decided: a cancel that
        arrives while it is recorded is too late. Cancelling the record instead would race it
        against the `cancelled` record, leaving a cancelled job with a saved play, or a row
        that disagrees with how the workflow closed. Runs recorded before this existed
        cancelled the record; the patch keeps them replaying.
        """
        if not workflow.patched("record-the-end-despite-cancel"):
            await recording
            return
        task = asyncio.ensure_future(recording)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            await task
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()

    async def _continue_as_new(
        self, input: ParsePlayInput, running: dict[asyncio.Task[object], int]
    ) -> None:
        """Start afresh with a short history; the next run skips every chunk stored so far."""
        if running:
            await workflow.wait(list(running))
            for task in running:
                task.result()
        await workflow.wait_condition(workflow.all_handlers_finished)
        input.paused = self._pause_requested
        workflow.continue_as_new(input)

    async def _wait_while_paused(self) -> None:
        if not self._pause_requested:
            return
        self._progress.paused = True
        await self._set_state(JobStatus.PAUSED, None, "paused")
        await workflow.wait_condition(lambda: not self._pause_requested)
        self._progress.paused = False
        await self._set_state(JobStatus.RUNNING, None, "resumed")

    async def _set_state(
        self,
        status: JobStatus | None,
        stage: JobStage | None,
        event: str,
        detail: dict[str, object] | None = None,
        error: JobErrorInfo | None = None,
    ) -> None:
        await self._record(
            RecordStateInput(
                job_id=workflow.info().workflow_id,
                status=status.value if status else None,
                stage=stage.value if stage else None,
                event=event,
                detail=dict(detail or ({"stage": stage.value} if stage else {})),
                error=error,
            )
        )
        if status is not None and status.value != self._progress.status:
            self._progress.status = status.value
            workflow.upsert_search_attributes([JOB_STATUS.value_set(status.value)])
        if stage is not None:
            self._progress.stage = stage.value
        if self._input is not None:
            self._show_progress(self._input)

    async def _record(self, state: RecordStateInput) -> None:
        await workflow.execute_activity_method(
            JobActivities.record_state,
            state,
            start_to_close_timeout=policies.DB_TIMEOUT,
            retry_policy=policies.DB_RETRY,
            priority=self._priority,
        )

    def _show_progress(self, input: ParsePlayInput) -> None:
        done, total = self._progress.chunks_done, self._progress.chunks_total
        percent = (100 * done) // total if total else 0
        workflow.set_current_details(
            f"**{input.filename or input.job_id}**: {self._progress.status}, "
            f"{self._progress.stage or ''} {done}/{total} chunks ({percent}%)"
        )


def _chunk_queue(provider: str) -> str | None:
    """LLM chunks go to their provider's rate-limited task queue; others stay on the job's."""
    if provider in LLM_PROVIDERS:
        return f"{workflow.info().task_queue}-{provider}"
    return None


def _raise_if_cancel_requested() -> None:
    """Honour a cancel that arrived while an activity was finishing anyway.

    Temporal delivers a workflow cancel once, as a cancellation of the awaited activity; if
    that activity completes regardless, the await returns normally and the request would be
    lost. The task still counts the pending cancellation, so it is checked after each step.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()


def _describe(error: ActivityError, chunk: int | None) -> JobErrorInfo:
    """The innermost application error of a failed activity, in the job's error shape."""
    cause: BaseException | None = error.cause
    while cause is not None and not isinstance(cause, ApplicationError) and cause.__cause__:
        cause = cause.__cause__
    if isinstance(cause, ApplicationError):
        message = cause.message
        if chunk is not None:
            message = f"chunk {chunk}: {message}"
        return JobErrorInfo(
            type=cause.type or "ApplicationError",
            message=message,
            retryable=not cause.non_retryable,
            chunk=chunk,
        )
    text = str(cause or error)
    if chunk is not None:
        text = f"chunk {chunk}: {text}"
    return JobErrorInfo(type="ActivityFailed", message=text, retryable=False, chunk=chunk)
