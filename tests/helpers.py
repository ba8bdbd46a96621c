"""Helpers shared by tests: creating jobs directly and waiting on them."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle

from playparse.db import jobs as repo
from playparse.db.models import Job
from playparse.extraction import detect_format
from workflows.parse_play import ParsePlayInput, ParsePlayWorkflow

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "emilia-galotti.txt"


def shared_plays() -> Path:
    """The annotated plays: ../shared/plays beside the checkout, or PLAYPARSE_SHARED_PLAYS
    (which .ci/run sets for a clone made elsewhere)."""
    configured = os.environ.get("PLAYPARSE_SHARED_PLAYS")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1].parent / "shared" / "plays"


async def create_job(
    sessions: async_sessionmaker[AsyncSession],
    content: bytes,
    *,
    filename: str = "play.txt",
    chunk_size: int = 2500,
    provider: str = "heuristic",
) -> Job:
    detected = detect_format(content)
    async with sessions.begin() as session:
        return await repo.create_job(
            session,
            new=repo.NewJob(
                job_id="job_" + secrets.token_hex(8),
                document_id="doc_" + secrets.token_hex(8),
                tenant_id="default",
                filename=filename,
                format=detected.value if detected else "txt",
                content=content,
                sha256=hashlib.sha256(content).hexdigest(),
                provider=provider,
                model=None,
                priority=3,
                concurrency=1,
                chunk_size=chunk_size,
            ),
        )


async def start_job(temporal: Client, task_queue: str, job: Job) -> WorkflowHandle:
    return await temporal.start_workflow(
        ParsePlayWorkflow.run,
        ParsePlayInput(job_id=job.id, provider=job.provider, filename=job.filename),
        id=job.id,
        task_queue=task_queue,
    )


async def wait_for_status(
    sessions: async_sessionmaker[AsyncSession],
    job_id: str,
    statuses: set[str],
    timeout: float = 60.0,
) -> Job:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with sessions() as session:
            job = await repo.get_job(session, job_id=job_id)
        assert job is not None
        if job.status in statuses:
            return job
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"job {job_id} still {job.status} after {timeout} s")
        await asyncio.sleep(0.1)
