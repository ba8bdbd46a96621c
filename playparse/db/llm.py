"""Persistence for the LLM path: the response cache and the providers' circuit breaker."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from playparse.db.locking import get_for_update
from playparse.db.models import LlmCache, ProviderHealth, utcnow
from playparse.db.upsert import insert_ignoring_conflicts


def cache_key(
    provider: str, model: str, prompt_version: str, text: str, context: dict[str, Any]
) -> str:
    """The cache key of a chunk: who answered, with which prompt, to what text and context."""
    parts = [
        provider,
        model,
        prompt_version,
        hashlib.sha256(text.encode()).hexdigest(),
        hashlib.sha256(json.dumps(context, sort_keys=True).encode()).hexdigest(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


_CACHED_ANSWER = select(LlmCache.result).where(LlmCache.key == bindparam("key"))


async def cached_answer(db: AsyncSession | AsyncConnection, *, key: str) -> dict[str, Any] | None:
    """The stored parse for this exact request, if one was kept."""
    found: dict[str, Any] | None = (await db.execute(_CACHED_ANSWER, {"key": key})).scalar()
    return found


async def record_failure(
    session: AsyncSession,
    *,
    provider: str,
    error: str,
    threshold: int,
    cooldown: timedelta,
) -> int:
    """Count a retryable failure; at `threshold` in a row the provider rests for all jobs.

    Each further failure after the threshold doubles the rest, up to ten cooldowns.
    """
    health = await get_for_update(session, ProviderHealth, provider)
    if health is None:
        await insert_ignoring_conflicts(
            session,
            ProviderHealth,
            [{"provider": provider, "consecutive_failures": 0, "updated_at": utcnow()}],
            keys=["provider"],
        )
        health = await get_for_update(session, ProviderHealth, provider)
        assert health is not None
    health.consecutive_failures += 1
    health.last_error = error
    health.updated_at = utcnow()
    over = health.consecutive_failures - threshold
    if over >= 0:
        health.open_until = utcnow() + cooldown * min(2**over, 10)
    return health.consecutive_failures
