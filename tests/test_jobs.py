"""The job state machine, as the pure module encodes it."""

from __future__ import annotations

import pytest

from playparse.jobs import (
    FINAL_STATES,
    JobStatus,
    allowed_actions,
    can_transition,
    progress_percent,
)

S = JobStatus


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.COMPLETED, S.QUEUED),
        (S.COMPLETED, S.RUNNING),
        (S.FAILED, S.RUNNING),
        (S.CANCELLED, S.RUNNING),
        (S.CANCELLED, S.COMPLETED),
        (S.QUEUED, S.COMPLETED),
        (S.PAUSED, S.COMPLETED),
    ],
)
def test_nothing_else_leaves_a_final_state_or_skips_running(
    current: JobStatus, new: JobStatus
) -> None:
    assert not can_transition(current, new)


# Every transition the job states allow, edge by edge, plus queued -> failed for a job Temporal
# would not accept.
DOCUMENTED = {
    (S.QUEUED, S.RUNNING),
    (S.RUNNING, S.COMPLETED),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.CANCELLED),
    (S.RUNNING, S.PAUSED),
    (S.PAUSED, S.RUNNING),
    (S.QUEUED, S.PAUSED),
    (S.RETRYING, S.PAUSED),
    (S.RUNNING, S.RETRYING),
    (S.RETRYING, S.RUNNING),
    (S.RETRYING, S.FAILED),
    (S.RETRYING, S.CANCELLED),
    (S.QUEUED, S.CANCELLED),
    (S.PAUSED, S.CANCELLED),
    (S.FAILED, S.QUEUED),
    (S.CANCELLED, S.QUEUED),
    (S.QUEUED, S.FAILED),
}


@pytest.mark.parametrize(("current", "new"), sorted(DOCUMENTED))
def test_documented_transitions_are_allowed(current: JobStatus, new: JobStatus) -> None:
    assert can_transition(current, new)


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("new", list(S))
def test_every_pair_of_states_is_allowed_exactly_as_documented(
    current: JobStatus, new: JobStatus
) -> None:
    assert can_transition(current, new) == (current == new or (current, new) in DOCUMENTED)


def test_only_retry_is_offered_on_failed_and_cancelled_jobs() -> None:
    assert allowed_actions(S.FAILED) == ["retry"]
    assert allowed_actions(S.CANCELLED) == ["retry"]
    assert allowed_actions(S.COMPLETED) == []
    assert allowed_actions(S.RUNNING) == ["pause", "cancel"]
    assert allowed_actions(S.PAUSED) == ["resume", "cancel"]
    assert {S.COMPLETED, S.FAILED, S.CANCELLED} == FINAL_STATES


def test_progress_reaches_100_only_when_completed() -> None:
    assert progress_percent(0, 0, S.QUEUED) == 0
    assert progress_percent(5, 10, S.RUNNING) == 50
    assert progress_percent(10, 10, S.RUNNING) == 99
    assert progress_percent(10, 10, S.COMPLETED) == 100
