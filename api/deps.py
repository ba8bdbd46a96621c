"""Dependencies shared by the routes: settings, database sessions, Temporal, the tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from playparse.config import Settings

DEFAULT_TENANT = "default"


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


def get_tenant() -> str:
    """The tenant every query is filtered by; one tenant until API keys exist."""
    return DEFAULT_TENANT


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
TenantDep = Annotated[str, Depends(get_tenant)]
