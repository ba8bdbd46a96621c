"""Finding jobs by state and by the name of the uploaded file (the page's jobs table)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from playparse.db.jobs import _encode_cursor, decode_cursor
from playparse.db.models import Job


def _like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's own wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_jobs(
    session: AsyncSession,
    *,
    tenant_id: str,
    statuses: Sequence[str] = (),
    filename_contains: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Job], str | None]:
    """Jobs newest first, filtered by status and by file name (case-insensitive substring).

    Pages like `playparse.db.jobs.list_jobs`, with the same cursors. Raises ValueError for a
    malformed cursor.
    """
    if filename_contains and not filename_contains.isprintable():
        # Stored file names hold printable characters only (uploads are cleaned), so none
        # matches; PostgreSQL would refuse a NUL in the pattern.
        return [], None
    query = select(Job).where(Job.tenant_id == tenant_id)
    if statuses:
        query = query.where(Job.status.in_(list(statuses)))
    if filename_contains:
        query = query.where(
            func.lower(Job.filename).like(_like_pattern(filename_contains), escape="\\")
        )
    if cursor is not None:
        created, job_id = decode_cursor(cursor)
        query = query.where(
            or_(Job.created_at < created, (Job.created_at == created) & (Job.id < job_id))
        )
    query = query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1)
    jobs = list((await session.execute(query)).scalars())
    next_cursor = _encode_cursor(jobs[limit - 1]) if len(jobs) > limit else None
    return jobs[:limit], next_cursor
