"""GET /api/jobs/{id}/stream: the audit trail as Server-Sent Events, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from api.routes import stream as stream_route
from playparse.client import PlayparseClient
from playparse.db import jobs as jobs_repo
from tests.api.test_jobs_api import PROBLEM, submit, wait_until_final
from tests.conftest import Api
from tests.helpers import EXAMPLE

STREAM_TIMEOUT_S = 60


@dataclass
class Message:
    """One dispatched SSE message: the `id`, `event` and `data` lines before a blank line."""

    id: str | None = None
    event: str | None = None
    data: list[str] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads("\n".join(self.data))
        return body


async def sse(response: httpx.Response) -> AsyncGenerator[Message | str, None]:
    """Parse `text/event-stream`: yields each dispatched message, and each comment as a str."""
    current = Message()
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield line[1:].strip()
        elif line == "":
            if current.data or current.event or current.id:
                yield current
            current = Message()
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                current.data.append(value)
            elif name == "event":
                current.event = value
            elif name == "id":
                current.id = value


async def stream_to_end(
    api: Api, job_id: str, headers: dict[str, str] | None = None, **params: Any
) -> tuple[httpx.Response, list[Message]]:
    async with (
        asyncio.timeout(STREAM_TIMEOUT_S),
        api.http.stream(
            "GET", f"/api/jobs/{job_id}/stream", headers=headers, params=params
        ) as response,
    ):
        assert response.status_code == 200, await response.aread()
        messages = [item async for item in sse(response) if isinstance(item, Message)]
    return response, messages


async def all_events(api: Api, job_id: str) -> list[dict[str, Any]]:
    page = (await api.http.get(f"/api/jobs/{job_id}/events", params={"limit": 1000})).json()
    assert page["next_cursor"] is None
    events: list[dict[str, Any]] = page["data"]
    return events


async def test_the_stream_follows_a_job_until_it_completes(api: Api, worker: Worker) -> None:
    job = (await submit(api, EXAMPLE.read_bytes(), EXAMPLE.name, chunk_size=2000)).json()

    response, messages = await stream_to_end(api, job["id"])

    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    events = [message.json() for message in messages]
    ids = [event["id"] for event in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [message.id for message in messages] == [str(i) for i in ids]
    assert [message.event for message in messages] == [event["kind"] for event in events]
    kinds = [event["kind"] for event in events]
    assert kinds[:2] == ["submitted", "started"]
    assert kinds[-1] == "completed" and kinds.count("completed") == 1
    done = (await api.http.get(f"/api/jobs/{job['id']}")).json()
    assert done["status"] == "completed"
    chunks = [event["detail"]["index"] for event in events if event["kind"] == "chunk"]
    # Chunks run 4 at a time, so they may finish in any order.
    assert sorted(chunks) == list(range(done["chunks_total"])) and len(chunks) > 1
    assert events == await all_events(api, job["id"])


async def test_reconnecting_with_last_event_id_sends_exactly_the_rest(
    api: Api, worker: Worker
) -> None:
    job = (await submit(api, EXAMPLE.read_bytes(), EXAMPLE.name, chunk_size=4000)).json()
    assert (await wait_until_final(api, job["id"]))["status"] == "completed"
    events = await all_events(api, job["id"])
    middle = len(events) // 2
    last_seen = str(events[middle]["id"])

    _, rest = await stream_to_end(api, job["id"], headers={"Last-Event-ID": last_seen})
    assert [message.json() for message in rest] == events[middle + 1 :]

    # The header wins over `after`; `after` alone works for clients that cannot set headers.
    _, same = await stream_to_end(
        api, job["id"], headers={"Last-Event-ID": last_seen}, after=events[0]["id"]
    )
    assert [message.json() for message in same] == events[middle + 1 :]
    _, by_query = await stream_to_end(api, job["id"], after=last_seen)
    assert [message.json() for message in by_query] == events[middle + 1 :]

    # Everything seen and the job is final: 204 No Content, which stops an EventSource from
    # reconnecting, where an empty stream would have it come back every few seconds.
    for seen in (
        {"headers": {"Last-Event-ID": str(events[-1]["id"])}},
        {"params": {"after": str(events[-1]["id"])}},
    ):
        done = await api.http.get(f"/api/jobs/{job['id']}/stream", **seen)
        assert done.status_code == 204 and done.content == b""
    # The playparse client (and `playparse watch`) takes that as the end of the stream.
    client = PlayparseClient(api.url)
    try:
        rest_of_it = await asyncio.to_thread(
            lambda: list(client.events(job["id"], last_event_id=str(events[-1]["id"])))
        )
    finally:
        client.close()
    assert rest_of_it == []


async def test_an_idle_stream_keeps_alive_and_stops_when_the_client_leaves(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No worker polls this test's task queue, so the job stays queued and the stream stays open.
    job = (await submit(api, b"A. Hello there.")).json()
    monkeypatch.setattr(stream_route, "KEEP_ALIVE_S", 0.5)
    polls = 0
    list_events = jobs_repo.list_events

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal polls
        polls += 1
        return await list_events(*args, **kwargs)

    monkeypatch.setattr(jobs_repo, "list_events", counted)
    items: list[Message | str] = []
    async with (
        asyncio.timeout(STREAM_TIMEOUT_S),
        api.http.stream("GET", f"/api/jobs/{job['id']}/stream") as response,
    ):
        assert response.status_code == 200
        async with aclosing(sse(response)) as received:
            async for item in received:
                items.append(item)
                if isinstance(item, str):
                    break
        assert [i.event if isinstance(i, Message) else i for i in items] == [
            "submitted",
            "keep-alive",
        ]
        assert polls > 1
    # The client has gone; the server must stop polling promptly.
    await asyncio.sleep(1)
    after_close = polls
    await asyncio.sleep(1)
    assert polls == after_close


async def test_unknown_job_is_404_before_the_stream_starts(api: Api) -> None:
    async with asyncio.timeout(10):
        response = await api.http.get("/api/jobs/job_doesnotexist/stream")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:playparse:problem:job-not-found"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "12 34", "99999999999999999999"])
async def test_a_bad_last_event_id_is_400(api: Api, value: str) -> None:
    job = (await submit(api, b"A. Hello there.")).json()
    async with asyncio.timeout(10):
        response = await api.http.get(
            f"/api/jobs/{job['id']}/stream", headers={"Last-Event-ID": value}
        )
        bad_after = await api.http.get(f"/api/jobs/{job['id']}/stream", params={"after": -1})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:playparse:problem:invalid-last-event-id"
    assert bad_after.status_code == 422
