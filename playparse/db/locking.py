"""Reading a row to change it, on PostgreSQL and SQLite alike, without losing a concurrent write."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from playparse.db.models import Job, ProviderHealth

Row = TypeVar("Row", Job, ProviderHealth)


async def get_for_update(session: AsyncSession, model: type[Row], key: Any) -> Row | None:
    """The row with primary key `key`, read after taking a lock held until the commit.

    PostgreSQL locks the row (SELECT ... FOR UPDATE). SQLite has no row locks, and its Python
    driver runs a SELECT outside any transaction, so a value read that way may be stale by the
    time the transaction writes; a no-op UPDATE first opens the transaction and takes SQLite's
    single write lock, and everything read after it is current until the commit.
    """
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        primary_key = model.__mapper__.primary_key[0]
        await session.execute(
            update(model)
            .where(primary_key == key)
            .values(updated_at=model.updated_at)
            .execution_options(synchronize_session=False)
        )
    return await session.get(model, key, with_for_update=True, populate_existing=True)
