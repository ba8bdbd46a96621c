"""RetentionWorkflow: remove jobs that ended long ago; started by the retention Schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.retention import PurgeInput, PurgeResult, RetentionActivities
    from workflows import policies


@dataclass
class RetentionInput:
    # Jobs that ended (completed, failed, cancelled) longer ago than this are removed.
    retention_days: float = 30.0
    # Saved plays are kept, readable, unless this is set.
    delete_plays: bool = False
    batch_size: int = 500


@workflow.defn
class RetentionWorkflow:
    """One retention pass: every ended job older than the cutoff goes, in batches."""

    @workflow.run
    async def run(self, input: RetentionInput) -> PurgeResult:
        cutoff = workflow.now() - timedelta(days=input.retention_days)
        result = await workflow.execute_activity_method(
            RetentionActivities.purge_old_jobs,
            PurgeInput(cutoff=cutoff, delete_plays=input.delete_plays, batch_size=input.batch_size),
            start_to_close_timeout=policies.RETENTION_TIMEOUT,
            heartbeat_timeout=policies.RETENTION_HEARTBEAT,
            retry_policy=policies.RETENTION_RETRY,
        )
        workflow.set_current_details(
            f"Removed {result.jobs} jobs that ended before {cutoff.isoformat()} "
            f"({result.plays_deleted} plays deleted, {result.plays_kept} kept)."
        )
        return result
