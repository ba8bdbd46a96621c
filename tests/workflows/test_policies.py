"""The chunk retry policy against the provider trouble it has to outlast."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

from workflows import policies


def backoff(policy: RetryPolicy) -> list[timedelta]:
    """The waits between a chunk's attempts under `policy` (no Retry-After from the provider)."""
    waits, wait = [], policy.initial_interval
    for _ in range(policy.maximum_attempts - 1):
        waits.append(wait)
        wait = min(wait * policy.backoff_coefficient, policy.maximum_interval or wait)
    return waits


def test_a_chunk_outlasts_minutes_of_overload_before_it_fails_its_job() -> None:
    # Six attempts used to be spent within 62 s, so a minute of 529s failed the job.
    assert sum(backoff(policies.CHUNK_RETRY), timedelta()) >= timedelta(minutes=8)


def test_planning_that_runs_out_of_time_fails_its_job_within_minutes() -> None:
    # Under the database policy's twenty attempts a play too slow to plan held a planning
    # process for forty minutes, every other job's planning queued behind it.
    attempts = policies.PLAN_RETRY.maximum_attempts
    spent = attempts * policies.PLAN_TIMEOUT + sum(backoff(policies.PLAN_RETRY), timedelta())
    assert spent <= timedelta(minutes=7)
