"""Repository functions for retention: removing jobs that ended long ago, a batch at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Delete, and_, delete, exists, func, or_, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from playparse.db.models import (
    Act,
    Character,
    Chunk,
    ChunkResult,
    Document,
    Job,
    JobEvent,
    Line,
    Play,
    Scene,
)
from playparse.jobs import JobStatus

ENDED = (JobStatus.COMPLETED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value)


@dataclass
class Purged:
    """Rows removed by one batch (plays_kept: saved plays left in place, their job removed)."""

    jobs: int = 0
    events: int = 0
    chunks: int = 0
    chunk_results: int = 0
    documents: int = 0
    plays_deleted: int = 0
    plays_kept: int = 0


def ended_before(cutoff: datetime) -> ColumnElement[bool]:
    """Jobs in a final state whose end lies before `cutoff`.

    The end is `completed_at`; a final job without one (never seen, but cheap to cover) counts
    from its last update.
    """
    return and_(
        Job.status.in_(ENDED),
        or_(
            Job.completed_at < cutoff,
            and_(Job.completed_at.is_(None), Job.updated_at < cutoff),
        ),
    )


async def purge_batch(
    session: AsyncSession, *, cutoff: datetime, delete_plays: bool, limit: int
) -> Purged:
    """Delete up to `limit` jobs that ended before `cutoff`, with what belongs to them only.

    Events, chunks and chunk results go with their job; the document goes when no job is left
    using it; the saved play goes only with `delete_plays` (otherwise it stays, readable, and
    keeps naming the job that produced it). The caller commits, so a batch goes whole or not
    at all, and running it again finds nothing already removed. On PostgreSQL the jobs are
    locked first and jobs locked by someone else (a retry moving one back to `queued`) are
    left for the next run.
    """
    rows = (
        await session.execute(
            select(Job.id, Job.document_id)
            .where(ended_before(cutoff))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not rows:
        return Purged()
    job_ids = [row.id for row in rows]
    document_ids = sorted({row.document_id for row in rows})
    # Every statement asks again whether the job still qualifies. PostgreSQL holds the rows
    # locked anyway; on SQLite the select above runs before the write transaction begins, and
    # a job retried in between must keep everything.
    doomed = select(Job.id).where(Job.id.in_(job_ids), ended_before(cutoff))
    purged = Purged()
    purged.events = await _delete(session, delete(JobEvent).where(JobEvent.job_id.in_(doomed)))
    purged.chunk_results = await _delete(
        session, delete(ChunkResult).where(ChunkResult.job_id.in_(doomed))
    )
    purged.chunks = await _delete(session, delete(Chunk).where(Chunk.job_id.in_(doomed)))
    plays = select(Play.id).where(Play.job_id.in_(doomed))
    if delete_plays:
        for table in (Line, Scene, Act, Character):
            await _delete(session, delete(table).where(table.play_id.in_(plays)))
        purged.plays_deleted = await _delete(session, delete(Play).where(Play.job_id.in_(doomed)))
    else:
        purged.plays_kept = (
            await session.execute(select(func.count()).select_from(plays.subquery()))
        ).scalar_one()
    purged.jobs = await _delete(session, delete(Job).where(Job.id.in_(doomed)))
    purged.documents = await _delete(
        session,
        delete(Document).where(
            Document.id.in_(document_ids),
            ~exists().where(Job.document_id == Document.id),
        ),
    )
    return purged


async def _delete(session: AsyncSession, statement: Delete) -> int:
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount
