"""Shared fixtures: a session-wide Temporal dev server, both databases, workers and the API."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from playparse.config import Settings
from playparse.db.engine import create_engine, create_sessionmaker
from playparse.db.migrate import upgrade
from playparse.devstack import DYNAMIC_CONFIG, SQLITE_PRAGMAS, serving, temporal_binary
from playparse.temporal import FILENAME, JOB_STATUS, PRIORITY, PROVIDER, TENANT_ID

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get(
    "PLAYPARSE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_postgres_skipped: list[str] = []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- Temporal ----------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    extra = []
    for key, value in DYNAMIC_CONFIG.items():
        extra += ["--dynamic-config-value", f"{key}={value}"]
    for pragma in SQLITE_PRAGMAS:
        extra += ["--sqlite-pragma", pragma]
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=[JOB_STATUS, TENANT_ID, PRIORITY, PROVIDER, FILENAME],
        dev_server_extra_args=extra,
        data_converter=pydantic_data_converter,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def temporal(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


# --- databases ---------------------------------------------------------------------------------


async def _postgres_reason() -> str | None:
    try:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {error}"
    await connection.close()
    return None


@pytest_asyncio.fixture(scope="session")
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    reason = await _postgres_reason()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true requires PostgreSQL)")
        _postgres_skipped.append(reason)
        pytest.skip(reason)
    name = f"playparse_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_URL)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Each database test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'playparse.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


# --- the service -------------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str, task_queue: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        task_queue=task_queue,
        data_dir=tmp_path,
        extraction_timeout_s=30,
    )


@pytest_asyncio.fixture
async def worker(
    temporal: Client, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Worker]:
    from worker import build_worker

    worker = build_worker(temporal, settings, sessions)
    async with worker:
        yield worker


@dataclass
class Api:
    url: str
    http: httpx.AsyncClient


@pytest_asyncio.fixture
async def api(
    temporal: Client, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Api]:
    """The API served over real HTTP on a free port."""
    from api.app import create_app

    async with served(create_app(settings, temporal=temporal, sessions=sessions)) as running:
        yield running


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[Api]:
    """`app` served over real HTTP on a free port until the block ends."""
    async with (
        serving(app, "127.0.0.1", free_port()) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield Api(url, http)


# --- reporting ---------------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _postgres_skipped:
        terminalreporter.write_sep("!", "PostgreSQL tests were SKIPPED", yellow=True)
        terminalreporter.write_line(_postgres_skipped[0])
        terminalreporter.write_line(
            "Only SQLite was tested. Set PLAYPARSE_TEST_POSTGRES_URL or "
            "start PostgreSQL to run them."
        )
