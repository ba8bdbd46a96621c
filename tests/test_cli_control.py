"""The `playparse` CLI steering and watching jobs: the real command against the API over HTTP.

Each command runs as a subprocess, as people run it, against the `api` fixture on a real port
with a worker on the Temporal dev server. The worker's `heuristic` provider can be slowed down
so a job is still running when the CLI acts on it.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.worker import Worker
from typer.testing import CliRunner

from playparse import cli as cli_module
from playparse.cli import base as cli_base
from playparse.client import PlayparseClient, ServerSentEvent, SSEDecoder
from tests.api.test_job_control import Instrumented, provider, worker  # noqa: F401
from tests.conftest import Api, free_port
from tests.helpers import EXAMPLE

# The CLI does not depend on the database; SQLite alone keeps this file fast.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PLAYPARSE = Path(sys.executable).parent / "playparse"
FINAL = ("completed", "failed", "cancelled")


# The job-control tests' worker: the heuristic parser, slowed down on request.
Slowed = Instrumented


async def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `playparse ARGS` against the API at `url`; a stack trace is always a failure."""
    done = await asyncio.to_thread(
        subprocess.run,
        [str(PLAYPARSE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PLAYPARSE_URL": url},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


async def job_of(api: Api, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await api.http.get(f"/api/jobs/{job_id}")).json()
    return body


async def wait_for(api: Api, job_id: str, check: Any, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = await job_of(api, job_id)
        if check(job):
            return job
        assert time.monotonic() < deadline, f"job {job_id} never satisfied the check: {job}"
        await asyncio.sleep(0.05)


async def submit(api: Api, content: bytes, **form: Any) -> dict[str, Any]:
    response = await api.http.post(
        "/api/jobs",
        files={"file": (EXAMPLE.name, content)},
        data={k: str(v) for k, v in form.items()},
    )
    assert response.status_code == 202
    body: dict[str, Any] = response.json()
    return body


async def event_ids(api: Api, job_id: str) -> list[int]:
    page = (await api.http.get(f"/api/jobs/{job_id}/events", params={"limit": 1000})).json()
    return [event["id"] for event in page["data"]]


@sqlite_only
async def test_pause_resume_priority_cancel_and_retry(
    api: Api, worker: Worker, provider: Slowed
) -> None:
    provider.delay = 0.8  # about 11 s for the whole play, 4 chunks at a time: still running
    parsed = await cli(api.url, "parse", str(EXAMPLE), "-o", "json")
    assert parsed.returncode == 0, parsed.stderr
    job_id = json.loads(parsed.stdout)["id"]
    await wait_for(api, job_id, lambda j: j["chunks_done"] >= 2)

    paused = await cli(api.url, "pause", job_id)
    assert paused.returncode == 0, paused.stderr
    assert paused.stdout.startswith(job_id) and len(paused.stdout.splitlines()) == 1
    await wait_for(api, job_id, lambda j: j["status"] == "paused")
    again = await cli(api.url, "pause", job_id)
    assert again.returncode == 3 and again.stdout == ""
    assert one_error_line(again) == (
        "error: cannot pause a job that is paused (allowed: resume, cancel)"
    )

    resumed = await cli(api.url, "resume", job_id, "-o", "json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["id"] == job_id
    await wait_for(api, job_id, lambda j: j["status"] == "running")
    refused = await cli(api.url, "resume", job_id)
    assert refused.returncode == 3
    assert one_error_line(refused) == (
        "error: cannot resume a job that is running (allowed: pause, cancel)"
    )

    priority = await cli(api.url, "priority", job_id, "5", "-o", "json")
    assert priority.returncode == 0, priority.stderr
    assert json.loads(priority.stdout)["priority"] == 5
    text = await cli(api.url, "priority", job_id, "4")
    assert text.returncode == 0 and text.stdout.rstrip().endswith("priority 4")
    assert (await cli(api.url, "priority", job_id, "9")).returncode == 2

    cancelled = await cli(api.url, "cancel", job_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.startswith(job_id)
    await wait_for(api, job_id, lambda j: j["status"] == "cancelled")
    watched = await cli(api.url, "watch", job_id)
    assert watched.returncode == 1
    assert one_error_line(watched) == f"error: job {job_id} was cancelled"
    assert watched.stdout.splitlines()[-1].split()[1] == "cancelled"

    partial = await cli(api.url, "result", job_id, "--partial")
    assert partial.returncode == 0, partial.stderr
    assert json.loads(partial.stdout)["schema"] == "playbook/v1"
    unfinished = await cli(api.url, "result", job_id)
    assert unfinished.returncode == 3
    assert one_error_line(unfinished) == (
        "error: the job is cancelled, not completed (allowed: retry)"
    )

    provider.delay = 0
    retried = await cli(api.url, "retry", job_id, "--wait", "-o", "json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["status"] == "completed"
    finished = await cli(api.url, "cancel", job_id)
    assert finished.returncode == 3
    assert one_error_line(finished) == (
        "error: cannot cancel a job that is completed (allowed: none)"
    )


@sqlite_only
async def test_watch_prints_each_event_live_until_the_job_completes(
    api: Api, worker: Worker, provider: Slowed
) -> None:
    provider.delay = 0.02
    job = await submit(api, EXAMPLE.read_bytes(), chunk_size=5000)
    text, as_json = await asyncio.gather(
        cli(api.url, "watch", job["id"]), cli(api.url, "watch", job["id"], "-o", "json")
    )
    assert text.returncode == 0 and as_json.returncode == 0, (text.stderr, as_json.stderr)
    assert text.stderr == as_json.stderr == ""

    done = await job_of(api, job["id"])
    assert done["status"] == "completed"
    ids = await event_ids(api, job["id"])
    events = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [event["id"] for event in events] == ids

    lines = text.stdout.splitlines()
    assert len(lines) == len(ids)
    kinds = [line.split()[1] for line in lines]
    assert kinds[0] == "submitted" and kinds[-1] == "completed"
    total = done["chunks_total"]
    chunk_lines = [line for line in lines if line.split()[1] == "chunk"]
    assert len(chunk_lines) == total > 1
    assert f"chunk {total}/{total}" in chunk_lines[-1]


@dataclass
class CuttingProxy:
    """A TCP relay to the API that drops the first event stream after `cut_after` bytes."""

    upstream: int
    cut_after: int
    heads: list[bytes] = field(default_factory=list)
    cut: bool = False
    port: int = 0

    async def serve(self) -> asyncio.Server:
        server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", self.upstream)
        head = await client_r.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        limit = None
        if b"/stream" in head.split(b"\r\n", 1)[0] and not self.cut:
            self.cut, limit = True, self.cut_after
        upstream_w.write(head)

        async def up() -> None:
            while data := await client_r.read(65536):
                upstream_w.write(data)

        async def down() -> None:
            sent = 0
            while data := await upstream_r.read(65536):
                if limit is not None and sent + len(data) >= limit:
                    client_w.write(data[: limit - sent])
                    return
                client_w.write(data)
                sent += len(data)
                await client_w.drain()

        forward = asyncio.create_task(up())
        try:
            await down()
        except ConnectionError:
            pass
        finally:
            forward.cancel()
            for writer in (client_w, upstream_w):
                writer.close()


@sqlite_only
async def test_watch_resumes_a_dropped_stream_without_repeating_an_event(
    api: Api, worker: Worker, provider: Slowed
) -> None:
    provider.delay = 0.02
    proxy = CuttingProxy(upstream=int(api.url.rsplit(":", 1)[1]), cut_after=1200)
    server = await proxy.serve()
    async with server:
        job = await submit(api, EXAMPLE.read_bytes(), chunk_size=5000)
        watched = await cli(f"http://127.0.0.1:{proxy.port}", "watch", job["id"], "-o", "json")
    assert watched.returncode == 0, watched.stderr
    printed = [json.loads(line)["id"] for line in watched.stdout.splitlines()]
    assert printed == await event_ids(api, job["id"])

    streams = [head.decode().lower() for head in proxy.heads if b"/stream" in head]
    assert len(streams) == 2, "one drop, one reconnect"
    resumed_after = next(
        int(line.split(":", 1)[1]) for line in streams[1].splitlines() if "last-event-id" in line
    )
    assert 0 < printed.index(resumed_after) < len(printed) - 1


@sqlite_only
async def test_failed_jobs_show_their_reason_and_errors_are_one_line(
    api: Api, worker: Worker
) -> None:
    failed = await wait_for(
        api, (await submit(api, b""))["id"], lambda j: j["status"] in FINAL, timeout=30
    )
    assert failed["status"] == "failed"
    reason = failed["error"]["message"]

    listed = await cli(api.url, "jobs", "--status", "failed")
    assert listed.returncode == 0
    row = next(line for line in listed.stdout.splitlines() if line.startswith(failed["id"]))
    assert row.endswith(f"error: {reason}")
    watched = await cli(api.url, "watch", failed["id"])
    assert watched.returncode == 1
    assert one_error_line(watched) == f"error: job {failed['id']} failed: {reason}"
    assert watched.stdout.splitlines()[-1].split()[1] == "failed"

    for args in (["pause", "job_nope"], ["watch", "job_nope"], ["priority", "job_nope", "3"]):
        missing = await cli(api.url, *args)
        assert missing.returncode == 3, args
        assert one_error_line(missing) == "error: no job with id 'job_nope'"

    # Not ids at all: `stats` would name another endpoint, "" the jobs list.
    for args in (
        ["job", ""],
        ["job", "stats"],
        ["job", "stats", "-o", "json"],
        ["priority", "", "3"],
        ["result", "../plays"],
        ["watch", "job_a/b"],
    ):
        malformed = await cli(api.url, *args)
        assert malformed.returncode == 2, args
        assert "is not a job id" in one_error_line(malformed), args
        assert malformed.stdout == "", args

    nowhere = f"http://127.0.0.1:{free_port()}"
    for args in (["cancel", failed["id"]], ["watch", failed["id"]]):
        unreachable = await cli(nowhere, *args)
        assert unreachable.returncode == 4, args
        assert one_error_line(unreachable).startswith(
            f"error: cannot reach the playparse API at {nowhere}"
        )


@sqlite_only
async def test_jobs_says_where_the_next_page_starts(api: Api, worker: Worker) -> None:
    ids = [(await submit(api, b""))["id"] for _ in range(3)]
    for job_id in ids:
        await wait_for(api, job_id, lambda j: j["status"] in FINAL)
    first = await cli(api.url, "jobs", "--limit", "2")
    assert first.returncode == 0, first.stderr
    more = [line for line in first.stderr.splitlines() if line.startswith("more: --cursor ")]
    assert len(more) == 1, first.stderr
    cursor = more[0].removeprefix("more: --cursor ")
    second = await cli(api.url, "jobs", "--limit", "2", "--cursor", cursor)
    assert second.returncode == 0, second.stderr
    seen = [line.split()[0] for line in (first.stdout + second.stdout).splitlines()]
    # Newest first and each job once across the pages (other tests' jobs may follow).
    assert len(seen) == len(set(seen)) >= 3
    assert seen[:3] == ids[::-1]


async def test_usage_errors_are_one_line_and_exit_2() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    for args, says in (
        (["priority", "job_1", "9"], "Invalid value for 'N'"),
        (["priority", "job_1"], "Missing argument 'N'"),
        (["parse", "/nonexistent"], "'/nonexistent' does not exist"),
        (["jobs", "--limit", "many"], "Invalid value for '--limit'"),
        (["result", "job_1", "-o", "yaml"], "Invalid value for '--output'"),
        (["nosuch"], "No such command 'nosuch'"),
    ):
        done = await cli(nowhere, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert says in one_error_line(done), args
        assert done.stdout == "", args
    # Help is as it was: asked for, or for want of a command.
    asked = await cli(nowhere, "priority", "--help")
    assert asked.returncode == 0 and "Usage" in asked.stdout and asked.stderr == ""
    bare = await cli(nowhere)
    assert bare.returncode == 2 and "Usage" in bare.stdout and bare.stderr == ""


def test_parse_leaves_the_default_provider_to_the_server() -> None:
    shown = CliRunner().invoke(cli_module.app, ["parse", "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    assert "the server's default" in shown.stdout
    assert "heuristic (default)" not in shown.stdout


class NotTheApi(http.server.BaseHTTPRequestHandler):
    """A web server that is not playparse: a proxy's error page, or a site's home page."""

    def do_GET(self) -> None:
        failing = self.path.startswith("/api/jobs")
        body = b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>oops</body>\n</html>"
        self.send_response(502 if failing else 200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


async def test_a_url_that_is_not_the_api_gets_one_line_and_an_exit_code() -> None:
    for url in ("http://127.0.0.1:8000x", "ftp://127.0.0.1", "localhost:8000"):
        unusable = await cli(url, "jobs")
        assert unusable.returncode == 2, url
        assert url in one_error_line(unusable)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotTheApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        # An error page: its first line, not the whole page.
        page = await cli(url, "jobs")
        assert page.returncode == 4
        assert one_error_line(page) == "error: <html> (HTTP 502)"
        # A success that is not JSON: not the playparse API.
        other = await cli(url + "/elsewhere", "job", "job_0123456789abcdef")
        assert other.returncode == 4
        assert one_error_line(other).startswith(f"error: {url}/elsewhere is not the playparse API")
    finally:
        server.shutdown()
        server.server_close()


def test_the_event_stream_is_parsed_as_the_standard_says() -> None:
    stream = (
        '\ufeff: keep-alive\r\nid: 7\r\nevent: chunk\r\ndata: {"a":\r\ndata:1}\r\n\r\n'
        "retry: 250\revent: no-data\r\rid: 8\ndata\n\ndata: x\n\nid: 9\ndata: cut off"
    )
    expected = [
        ServerSentEvent("chunk", '{"a":\n1}', "7"),
        ServerSentEvent("message", "", "8"),
        ServerSentEvent("message", "x", "8"),
    ]
    whole = SSEDecoder()
    assert whole.feed(stream) == expected
    assert (whole.retry_ms, whole.last_event_id) == (250, "9")
    piecemeal = SSEDecoder()
    assert [event for ch in stream for event in piecemeal.feed(ch)] == expected


def test_watch_opens_the_stream_again_when_it_ends_before_the_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stream closed cleanly while the job runs (a proxy, a restart) is opened again."""

    def event(number: int, kind: str) -> str:
        body = {"id": number, "kind": kind, "detail": {}, "created_at": "2030-01-01T10:00:00Z"}
        return f"id: {number}\nevent: {kind}\ndata: {json.dumps(body)}\n\n"

    streams = [event(1, "submitted") + event(2, "started"), ": ping\n\n" + event(3, "completed")]
    asked_after: list[str | None] = []
    status = iter(["running", "completed"])

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stream"):
            asked_after.append(request.headers.get("last-event-id"))
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, text=streams.pop(0)
            )
        return httpx.Response(200, json={"id": "job_1", "status": next(status), "error": None})

    monkeypatch.setattr(
        cli_base,
        "client",
        lambda: PlayparseClient("http://api.test", transport=httpx.MockTransport(answer)),
    )
    watched = CliRunner().invoke(cli_module.app, ["watch", "job_1", "-o", "json"])
    assert watched.exit_code == 0, watched.output
    assert [json.loads(line)["id"] for line in watched.stdout.splitlines()] == [1, 2, 3]
    assert asked_after == [None, "2"]
