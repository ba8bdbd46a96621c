"""GET /api/jobs/stream: the jobs table's live feed, filtered like the page."""

from __future__ import annotations

import asyncio
import secrets
from contextlib import aclosing
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from playparse.db import jobs as jobs_repo
from playparse.jobs import JobStatus
from tests.api.test_jobs_api import submit
from tests.api.test_stream import Message, sse
from tests.conftest import Api


async def first_jobs(api: Api, count: int, **params: Any) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    async with api.http.stream("GET", "/api/jobs/stream", params=params) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async with aclosing(sse(response)) as messages:
            async for message in messages:
                if isinstance(message, Message) and message.event == "job":
                    jobs.append(message.json())
                    if len(jobs) == count:
                        return jobs
    return jobs


async def test_the_stream_sends_the_jobs_then_each_new_one(api: Api) -> None:
    tag = secrets.token_hex(4)
    older = (await submit(api, b"A. Hello.", f"{tag}-older.txt")).json()
    jobs: list[dict[str, Any]] = []

    async def read() -> None:
        jobs.extend(await first_jobs(api, 2, q=tag.upper()))

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.5)
    await submit(api, b"B. Hello.", f"{tag[::-1]}-other.txt")  # does not match the filter
    newer = (await submit(api, b"A. Hello.", f"{tag}-newer.txt")).json()
    await asyncio.wait_for(reader, 10)
    assert [job["id"] for job in jobs] == [older["id"], newer["id"]]
    assert jobs[1]["status"] == "queued" and "allowed_actions" in jobs[1]


async def test_the_stream_filters_by_state(api: Api) -> None:
    await submit(api, b"A. Hello.", "queued.txt")
    response = await api.http.get("/api/jobs/stream", params={"status": "bogus"})
    assert response.status_code == 422
    jobs = await asyncio.wait_for(first_jobs(api, 1, status="queued"), 10)
    assert jobs[0]["status"] == "queued"


async def test_a_job_that_leaves_the_filter_is_sent_once_more_as_it_now_is(
    api: Api, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tag = secrets.token_hex(4)
    job = (await submit(api, b"A. Hello.", f"{tag}.txt")).json()
    seen: list[dict[str, Any]] = []

    async def read() -> None:
        seen.extend(await first_jobs(api, 2, status="queued", q=tag))

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.5)
    async with sessions.begin() as session:
        await jobs_repo.record_state(
            session, job_id=job["id"], status=JobStatus.RUNNING, event="started"
        )
    await asyncio.wait_for(reader, 10)
    assert [(j["id"], j["status"]) for j in seen] == [(job["id"], "queued"), (job["id"], "running")]
