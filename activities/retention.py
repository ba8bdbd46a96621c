"""Retention activity: remove jobs that ended long ago, in bounded batches, heartbeating."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.heartbeat import heartbeating
from playparse.db import retention as retention_repo


@dataclass
class PurgeInput:
    # Jobs that ended before this moment go (the workflow fixes it, so retries agree on it).
    cutoff: datetime
    delete_plays: bool = False
    # Jobs per transaction: each batch commits on its own, so a crash loses at most one batch
    # of work and locks stay short.
    batch_size: int = 500


@dataclass
class PurgeResult:
    """Rows removed in all; plays_kept counts saved plays left in place after their job went."""

    cutoff: datetime
    jobs: int = 0
    events: int = 0
    chunks: int = 0
    chunk_results: int = 0
    documents: int = 0
    plays_deleted: int = 0
    plays_kept: int = 0
    batches: int = 0


class RetentionActivities:
    """Activities that keep the database from growing without bound; built in worker.py."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name="purge_old_jobs")
    async def purge_old_jobs(self, input: PurgeInput) -> PurgeResult:
        """Delete the jobs that ended before the cutoff, batch by batch, until none is left.

        Each heartbeat carries the totals so far, so an attempt that follows a crash reports
        what earlier attempts removed too.
        """
        total = _resumed(input.cutoff)
        while True:
            activity.heartbeat(dataclasses.asdict(total))
            batch = await heartbeating(
                self._purge_batch(input), details=lambda: dataclasses.asdict(total)
            )
            if batch.jobs == 0:
                break
            for name, value in dataclasses.asdict(batch).items():
                setattr(total, name, getattr(total, name) + value)
            total.batches += 1
        activity.logger.info("retention removed %s", dataclasses.asdict(total))
        return total

    async def _purge_batch(self, input: PurgeInput) -> retention_repo.Purged:
        async with self._sessions.begin() as session:
            return await retention_repo.purge_batch(
                session,
                cutoff=input.cutoff,
                delete_plays=input.delete_plays,
                limit=input.batch_size,
            )


def _resumed(cutoff: datetime) -> PurgeResult:
    """The totals of earlier attempts from their last heartbeat, or zeros on the first."""
    details = activity.info().heartbeat_details
    total = PurgeResult(cutoff=cutoff)
    if details and isinstance(details[0], dict):
        for field in dataclasses.fields(PurgeResult):
            value = details[0].get(field.name)
            if field.name != "cutoff" and isinstance(value, int):
                setattr(total, field.name, value)
    return total
