"""Odd and hostile requests get a 4xx problem body or a success, never a 500."""

from __future__ import annotations

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
