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
) -> None:
    """Insert rows (all with the same columns), skipping those whose `keys` already exist."""
    if not rows:
        return
    await session.execute(await _statement(session, model, keys), list(rows))


async def insert_new(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
) -> set[tuple[Any, ...]]:
    """Insert rows (all with the same columns), skipping those whose `keys` already exist;
    the keys of those inserted."""
    if not rows:
        return set()
    table = model.__table__
    statement = (await _statement(session, model, keys)).returning(*(table.c[key] for key in keys))
    return {tuple(row) for row in await session.execute(statement, list(rows))}


async def _statement(
    session: AsyncSession,
    model: type[DeclarativeBase],
    keys: Sequence[str],
) -> Any:
    connection = await session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    # On the table, not the mapped class: the ORM's bulk-insert handling adds nothing here.
    # The rows go in as execute()'s parameter list, not as values(), so the statement's text
    # does not grow with the batch (the driver's executemany, or one multi-row INSERT per
    # batch when RETURNING is asked for). SQLAlchemy 2.0 compiles these dialect inserts at
    # every execution (they have no cache key; 2.1 caches them), which costs about as much
    # as the noise of bench.tuning's efficiency_short: no difference measured between the two.
    return dialect.insert(model.__table__).on_conflict_do_nothing(index_elements=keys)
