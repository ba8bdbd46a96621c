"""Job states, their allowed transitions and the small value types shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
