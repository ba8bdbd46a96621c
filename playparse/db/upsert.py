"""Portable INSERT ... ON CONFLICT DO NOTHING for PostgreSQL and SQLite (idempotent writes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


async def insert_ignoring_conflicts(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
) -> int:
    """Insert rows, skipping those whose `keys` already exist; returns how many were new."""
    if not rows:
        return 0
    result = await session.execute(await _statement(session, model, rows, keys))
    return max(getattr(result, "rowcount", 0), 0)


async def insert_new(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
) -> set[tuple[Any, ...]]:
    """Insert rows, skipping those whose `keys` already exist; the keys of those inserted."""
    if not rows:
        return set()
    table = model.__table__
    statement = (await _statement(session, model, rows, keys)).returning(
        *(table.c[key] for key in keys)
    )
    return {tuple(row) for row in await session.execute(statement)}


async def _statement(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
) -> Any:
    connection = await session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    # On the table, not the mapped class: the ORM's bulk-insert handling adds nothing here.
    return (
        dialect.insert(model.__table__)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=keys)
    )
