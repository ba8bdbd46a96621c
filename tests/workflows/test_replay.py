"""Workflow determinism: histories of real runs replay against the current workflow code.

A change to ParsePlayWorkflow that would break jobs already running (a reordered activity, a
new timer without `workflow.patched`) fails here instead of in production. The recorded
histories under histories/ come from earlier versions of the workflow; record a new one with
PLAYPARSE_RECORD_HISTORY=1 when the workflow gains a new path worth keeping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from tests.helpers import create_job, start_job, wait_for_status
from workflows.parse_play import ParsePlayWorkflow

HISTORIES = Path(__file__).parent / "histories"
PLAY = (
    "A SMALL PLAY\nby Nobody\n\n\nACT I\n\nSCENE I. A room.\n\n"
    + "".join(
        f"ANNA.\nLine {n} of Anna, long enough to matter.\n\n"
        f"BEN.\n    [laughing]\nLine {n} of Ben.\n\n"
        for n in range(40)
    )
).encode()


def replayer() -> Replayer:
    return Replayer(workflows=[ParsePlayWorkflow], data_converter=pydantic_data_converter)


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None


async def test_a_paused_and_resumed_job_replays(
    temporal: Client,
    worker: Worker,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    job = await create_job(sessions, PLAY, chunk_size=400)
    handle = await start_job(temporal, task_queue, job)
    await handle.signal(ParsePlayWorkflow.pause)
    await wait_for_status(sessions, job.id, {"paused"})
    await handle.signal(ParsePlayWorkflow.resume)
    result = await handle.result()
    assert result.chunks > 3

    history = await handle.fetch_history()
    replayed = await replayer().replay_workflow(history)
    assert replayed.replay_failure is None
    if os.environ.get("PLAYPARSE_RECORD_HISTORY") == "1" and database_url.startswith("sqlite"):
        (HISTORIES / "pause_resume.json").write_text(history.to_json(), encoding="utf-8")
