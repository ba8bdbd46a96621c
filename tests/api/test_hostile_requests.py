"""Odd and hostile requests get a 4xx problem body or a success, never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import Api

PROBLEM = "application/problem+json"
PLAY = b"ANNA.\nHello.\n\nBEN.\nGoodbye.\n"

REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("json instead of a form", "/api/jobs", {"json": {"file": "x"}}),
    ("urlencoded form", "/api/jobs", {"data": {"file": "x"}}),
    ("no body", "/api/jobs", {}),
    (
        "priority not a number",
        "/api/jobs",
        {"files": {"file": ("a.txt", PLAY)}, "data": {"priority": "high"}},
    ),
    (
        "chunk size as float",
        "/api/jobs",
        {"files": {"file": ("a.txt", PLAY)}, "data": {"chunk_size": "2500.5"}},
    ),
    ("empty provider", "/api/jobs", {"files": {"file": ("a.txt", PLAY)}, "data": {"provider": ""}}),
    (
        "file as a plain field",
        "/api/jobs",
        {"data": {"file": "not an upload"}, "files": {"other": ("b.txt", b"x")}},
    ),
    ("empty file", "/api/jobs", {"files": {"file": ("empty.txt", b"")}}),
    ("path in the file name", "/api/jobs", {"files": {"file": ("../../etc/passwd", PLAY)}}),
    ("control characters in the name", "/api/jobs", {"files": {"file": ("a\x00\x07.txt", PLAY)}}),
    ("very long file name", "/api/jobs", {"files": {"file": ("n" * 5000 + ".txt", PLAY)}}),
    # Temporal holds a search attribute to 2 KB of JSON, where each of these takes 12 bytes.
    ("a long name of emoji", "/api/jobs", {"files": {"file": ("😀" * 300 + ".txt", PLAY)}}),
    ("a long name in Chinese", "/api/jobs", {"files": {"file": ("戏" * 400 + ".txt", PLAY)}}),
    ("binary noise", "/api/jobs", {"files": {"file": ("x.bin", bytes(range(256)) * 20)}}),
    ("a zip that is not a docx", "/api/jobs", {"files": {"file": ("x.docx", b"PK\x03\x04junk")}}),
    ("a truncated pdf", "/api/jobs", {"files": {"file": ("x.pdf", b"%PDF-1.7\n1 0 obj <<")}}),
    (
        "huge idempotency key",
        "/api/jobs",
        {"files": {"file": ("a.txt", PLAY)}, "headers": {"Idempotency-Key": "k" * 10_000}},
    ),
]


@pytest.mark.parametrize(("name", "path", "kwargs"), REQUESTS, ids=[r[0] for r in REQUESTS])
async def test_hostile_submissions_never_500(
    api: Api, name: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = await api.http.post(path, **kwargs)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["status"] == response.status_code
        assert body["type"].startswith("urn:playparse:problem:")
        assert body["detail"]
    else:
        assert response.status_code == 202
        job = response.json()
        assert "/" not in job["filename"] and "\x00" not in job["filename"]
        assert len(job["filename"]) <= 255


@pytest.mark.parametrize(
    "url",
    [
        "/api/jobs?limit=0",
        "/api/jobs?limit=-5",
        "/api/jobs?limit=100000",
        "/api/jobs?cursor=" + "A" * 5000,
        "/api/jobs?cursor=eyJ4IjoxfQ",
        "/api/jobs/" + "x" * 3000,
        "/api/jobs/%00",
        "/api/jobs/job_x/result",
        "/api/jobs/job_x/events",
        "/api/plays/%2e%2e",
        "/api/nothing-here",
    ],
)
async def test_hostile_reads_never_500(api: Api, url: str) -> None:
    response = await api.http.get(url)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM


async def test_a_method_the_resource_lacks_is_405_problem(api: Api) -> None:
    response = await api.http.delete("/api/jobs")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("budget_usd", "inf"),
        ("budget_usd", "nan"),
        ("budget_usd", "1e309"),
        ("budget_tokens", str(10**30)),
        ("model", "gpt\x00mini"),
        ("batch_key", "week\x1b12"),
    ],
)
async def test_options_the_database_cannot_hold_are_refused_before_a_job_exists(
    api: Api, field: str, value: str
) -> None:
    key = f"refused-{field}-{value.encode().hex()[:40]}"
    refused = await api.http.post(
        "/api/jobs",
        files={"file": ("a.txt", PLAY)},
        data={field: value},
        headers={"Idempotency-Key": key},
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert field in refused.text
    # Nothing was kept under the key: the same request without the bad option is a new job.
    accepted = await api.http.post(
        "/api/jobs", files={"file": ("a.txt", PLAY)}, headers={"Idempotency-Key": key}
    )
    assert accepted.status_code == 202, accepted.text


@pytest.mark.parametrize(
    "url",
    [
        "/api/jobs/{id}/events?after=99999999999999999999",
        "/api/jobs/{id}/events?after=9223372036854775808",
    ],
)
async def test_an_event_position_beyond_any_id_is_a_422(api: Api, url: str) -> None:
    job = (await api.http.post("/api/jobs", files={"file": ("a.txt", PLAY)})).json()
    response = await api.http.get(url.format(id=job["id"]))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM


async def test_control_characters_in_searches_and_cursors_find_nothing(api: Api) -> None:
    await api.http.post("/api/jobs", files={"file": ("nul.txt", PLAY)})
    page = await api.http.get("/", params={"q": "nul\x00"})
    assert page.status_code == 200
    assert "nul.txt" not in page.text
    forged = base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00", "job\x00"]).encode())
    listed = await api.http.get("/api/jobs", params={"cursor": forged.decode()})
    assert listed.status_code == 400
    assert listed.json()["type"] == "urn:playparse:problem:invalid-cursor"


async def test_a_start_temporal_refuses_is_a_422_and_a_job_failed_for_good(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.routes import jobs as jobs_routes

    # The name cut to the column only: more than the 2 KB Temporal holds a search attribute to.
    monkeypatch.setattr(jobs_routes, "_safe_filename", lambda name: name[:255])
    response = await api.http.post("/api/jobs", files={"file": ("😀" * 180, PLAY)})
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    body = response.json()
    assert "refused the job" in body["detail"] and "size" in body["detail"]
    job = (await api.http.get(f"/api/jobs/{body['job_id']}")).json()
    assert job["status"] == "failed" and job["error"]["retryable"] is False
