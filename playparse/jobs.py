"""Job states, their allowed transitions and the small value types shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


class JobStage(StrEnum):
    EXTRACTING = "extracting"
    PLANNING = "planning"
    PARSING = "parsing"
    ASSEMBLING = "assembling"
    SAVING = "saving"


class JobAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    RETRY = "retry"


FINAL_STATES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})

TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset(
        {JobStatus.RUNNING, JobStatus.PAUSED, JobStatus.CANCELLED, JobStatus.FAILED}
    ),
    JobStatus.RUNNING: frozenset(
        {
            JobStatus.PAUSED,
            JobStatus.RETRYING,
            JobStatus.COMPLETED,
            JobStatus.FAILED,
            JobStatus.CANCELLED,
        }
    ),
    JobStatus.PAUSED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RETRYING: frozenset(
        {JobStatus.RUNNING, JobStatus.PAUSED, JobStatus.FAILED, JobStatus.CANCELLED}
    ),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
    JobStatus.CANCELLED: frozenset({JobStatus.QUEUED}),
}

ACTIONS: dict[JobStatus, tuple[JobAction, ...]] = {
    JobStatus.QUEUED: (JobAction.PAUSE, JobAction.CANCEL),
    JobStatus.RUNNING: (JobAction.PAUSE, JobAction.CANCEL),
    JobStatus.PAUSED: (JobAction.RESUME, JobAction.CANCEL),
    JobStatus.RETRYING: (JobAction.PAUSE, JobAction.CANCEL),
    JobStatus.COMPLETED: (),
    JobStatus.FAILED: (JobAction.RETRY,),
    JobStatus.CANCELLED: (JobAction.RETRY,),
}


def can_transition(current: JobStatus, new: JobStatus) -> bool:
    """Whether a job may move from `current` to `new` (staying put is always allowed)."""
    return current == new or new in TRANSITIONS[current]


def allowed_actions(status: JobStatus) -> list[str]:
    """The user actions the state allows, in a stable order."""
    return [action.value for action in ACTIONS[status]]


@dataclass(frozen=True)
class JobError:
    """Why a job failed, in words for the person who submitted it."""

    type: str
    message: str
    retryable: bool = False
    chunk: int | None = None


def progress_percent(chunks_done: int, chunks_total: int, status: JobStatus) -> int:
    """Progress from 0 to 100; 100 only once the job has completed."""
    if status == JobStatus.COMPLETED:
        return 100
    if chunks_total <= 0:
        return 0
    return min(99, (100 * chunks_done) // chunks_total)


def event_summary(kind: str, d: dict[str, Any]) -> str:
    """A few words on what a job event says, e.g. "chunk 12/53  41 lines" (CLI and web page)."""
    if kind == "chunk":
        return f"chunk {d.get('chunks_done')}/{d.get('chunks_total')}  {d.get('lines')} lines"
    if kind in ("started", "stage"):
        return str(d.get("stage", ""))
    if kind == "submitted":
        return f"{d.get('filename')} ({d.get('format')}, {d.get('bytes')} bytes)"
    if kind == "planned":
        return f"{d.get('chunks')} chunks, {d.get('chars')} characters"
    if kind == "retrying":
        return f"chunk {d.get('chunk')} attempt {d.get('attempt')} failed: {d.get('error')}"
    if kind == "recovered":
        return f"chunk {d.get('chunk')} succeeded on attempt {d.get('attempt')}"
    if kind == "completed" and "title" in d:
        return f"{d.get('title')}: {d.get('lines')} lines, play {d.get('play_id')}"
    if kind == "failed" and ("message" in d or "reason" in d):
        return str(d.get("message") or d.get("reason"))
    if kind == "cancelled" and "chunks_done" in d:
        return f"after {d['chunks_done']} chunks"
    if kind == "retried":
        return f"run {d.get('run')} (was {d.get('previous')})"
    return "  ".join(f"{key}={value}" for key, value in d.items())
