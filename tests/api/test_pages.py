"""The web page over plain HTTP, as a browser without JavaScript uses it: forms and redirects.

tests/browser/ drives the same pages in Chromium; these check what any HTTP client sees.
"""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker import Worker

from api.routes import pages as pages_module
from playparse.db import jobs as jobs_repo
from tests.api.test_jobs_api import submit, wait_until_final
from tests.conftest import Api
from tests.helpers import EXAMPLE

HTML = "text/html; charset=utf-8"


async def post_form(
    api: Api, content: bytes | None, name: str = "play.txt", **fields: str
) -> httpx.Response:
    files = {"file": (name, content or b"")} if content is not None else {"file": ("", b"")}
    return await api.http.post("/jobs", files=files, data=fields)


def shown_actions(html: str) -> list[str]:
    """The job page's action buttons that are not hidden."""
    forms = re.findall(r'<form [^>]*data-action="(\w+)"([^>]*)>', html)
    return [action for action, rest in forms if " hidden" not in rest]


async def test_the_upload_form_submits_a_job_and_redirects_to_its_page(
    api: Api, worker: Worker
) -> None:
    home = await api.http.get("/")
    assert home.status_code == 200 and home.headers["content-type"] == HTML
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert '<form id="upload"' in home.text and 'enctype="multipart/form-data"' in home.text
    for field in ("file", "provider", "chunk_size", "priority", "concurrency"):
        assert f'<label for="{field}">' in home.text, field

    form_key = re.search(r'name="idempotency_key" value="([^"]+)"', home.text)
    assert form_key is not None
    fields = {"chunk_size": "4000", "priority": "5", "idempotency_key": form_key.group(1)}
    response = await post_form(api, EXAMPLE.read_bytes(), EXAMPLE.name, **fields)
    assert response.status_code == 303
    job_id = response.headers["location"].removeprefix("/jobs/")
    # The same form sent twice (a double click) is the same job.
    again = await post_form(api, EXAMPLE.read_bytes(), EXAMPLE.name, **fields)
    assert again.headers["location"] == f"/jobs/{job_id}"

    job = await wait_until_final(api, job_id)
    assert (job["status"], job["priority"], job["chunk_size"]) == ("completed", 5, 4000)
    page = await api.http.get(f"/jobs/{job_id}")
    assert page.status_code == 200
    assert EXAMPLE.name in page.text and 'id="job-progress"' in page.text
    assert f"/namespaces/default/workflows/{job_id}" in page.text
    assert "Read the play" in page.text and "completed" in page.text
    # Only the actions the state allows are shown: a completed job has none.
    assert shown_actions(page.text) == []

    play = await api.http.get(f"/jobs/{job_id}/play")
    assert play.status_code == 200
    assert "<h1>Emilia Galotti</h1>" in play.text
    assert 'href="#act-2-scene-3"' in play.text and 'id="act-2-scene-3"' in play.text
    odoardo = await api.http.get(f"/jobs/{job_id}/play", params={"character": "odoardo"})
    assert "Only <strong>Odoardo</strong>" in odoardo.text
    speakers = re.findall(r'<p class="speaker">([^<]*)</p>', odoardo.text)
    assert speakers and set(speakers) == {"Odoardo"}
    cued = await api.http.get(
        f"/jobs/{job_id}/play", params={"character": "odoardo", "cues": "true"}
    )
    assert 'class="speech cue"' in cued.text
    assert f"/api/jobs/{job_id}/result.md?character=odoardo&amp;cues=true" in cued.text
    unknown = await api.http.get(f"/jobs/{job_id}/play", params={"character": "hamlet"})
    assert unknown.status_code == 404 and "hamlet" in unknown.text


async def test_a_form_with_problems_comes_back_with_them_in_plain_words(api: Api) -> None:
    no_file = await post_form(api, None)
    assert no_file.status_code == 422 and no_file.headers["content-type"] == HTML
    assert "Choose a play file to upload." in no_file.text

    bad = await post_form(api, b"A. Hello.", chunk_size="50", priority="9", concurrency="x")
    assert bad.status_code == 422
    for words in (
        "Chunk size must be at least 200.",
        "Priority must be at most 5.",
        "Chunks at once must be a whole number.",
    ):
        assert words in bad.text
    assert 'value="50"' in bad.text, "what was typed is kept"

    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    picture = await post_form(api, png, "play.txt")
    assert picture.status_code == 415
    assert "The file is not a PDF, DOCX or text file." in picture.text


async def test_forms_from_other_sites_are_refused(api: Api) -> None:
    response = await api.http.post(
        "/jobs",
        files={"file": ("a.txt", b"A. Hello.")},
        headers={"Origin": "https://elsewhere.example"},
    )
    assert response.status_code == 403


async def test_api_changes_sent_from_other_sites_are_refused(api: Api) -> None:
    """A page elsewhere cannot make a visitor's browser start or steer jobs through the API."""
    elsewhere = {"Origin": "https://elsewhere.example"}
    upload = {"file": ("a.txt", b"A. Hello.")}
    refused = await api.http.post("/api/jobs", files=upload, headers=elsewhere)
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:playparse:problem:cross-site-request"
    own = await api.http.post("/api/jobs", files=upload, headers={"Origin": api.url})
    assert own.status_code == 202
    job_id = own.json()["id"]
    for method, path in [("POST", f"/api/jobs/{job_id}/cancel"), ("PATCH", f"/api/jobs/{job_id}")]:
        response = await api.http.request(method, path, json={"priority": 5}, headers=elsewhere)
        assert response.status_code == 403, (method, path)
    # Reading is not a change, and clients that are not browsers send no Origin.
    assert (await api.http.get(f"/api/jobs/{job_id}", headers=elsewhere)).status_code == 200
    assert (await api.http.post(f"/api/jobs/{job_id}/cancel")).status_code == 202


async def test_the_jobs_table_filters_by_state_and_file_name(api: Api) -> None:
    # No worker polls this test's task queue: the jobs stay queued.
    tag = secrets.token_hex(4)
    for name in ("hamlet.txt", "Hamlet-2.txt", "lear.txt", "%_real.txt"):
        assert (await submit(api, b"A. Hello.", f"{tag}-{name}")).status_code == 202

    async def shown(**params: str) -> list[str]:
        html = (await api.http.get("/", params=params)).text
        return sorted(re.findall(r'<a href="/jobs/job_\w+">([^<]+)</a>', html))

    assert await shown(q=f"{tag}-HAMLET") == [f"{tag}-Hamlet-2.txt", f"{tag}-hamlet.txt"]
    assert await shown(q=f"{tag}-%_") == [f"{tag}-%_real.txt"], "LIKE wildcards are literal"
    assert len(await shown(q=tag, status="queued")) == 4
    assert await shown(q=tag, status="completed") == []
    done = await api.http.get("/", params={"status": "completed", "q": tag})
    assert "No job matches." in done.text and "Show all jobs" in done.text
    assert (await api.http.get("/", params={"status": ["", "bogus"]})).status_code == 200


async def test_a_button_the_state_does_not_allow_says_why(api: Api) -> None:
    job = (await submit(api, b"A. Hello.")).json()  # queued: pause and cancel are allowed
    assert shown_actions((await api.http.get(f"/jobs/{job['id']}")).text) == ["pause", "cancel"]
    retry = await api.http.post(f"/jobs/{job['id']}/retry")
    assert retry.status_code == 409 and retry.headers["content-type"] == HTML
    assert "Could not retry the job: Cannot retry a job that is queued." in retry.text
    assert (await api.http.post("/jobs/job_nope/cancel")).status_code == 404
    assert (await api.http.get("/jobs/job_nope")).status_code == 404


async def test_a_failed_job_says_why_in_plain_words(api: Api, worker: Worker) -> None:
    job = (await submit(api, b"", "empty.txt")).json()
    assert (await wait_until_final(api, job["id"]))["status"] == "failed"
    page = await api.http.get(f"/jobs/{job['id']}")
    assert "Why the job failed" in page.text and "The job failed:" in page.text
    assert "Retrying will not help with this file as it is." in page.text
    assert shown_actions(page.text) == ["retry"]


async def test_the_play_page_of_an_unfinished_job_says_it_is_not_ready(api: Api) -> None:
    job = (await submit(api, b"A. Hello.")).json()
    response = await api.http.get(f"/jobs/{job['id']}/play")
    assert response.status_code == 409
    assert "The job is queued" in response.text


async def test_a_long_job_page_shows_its_newest_events_and_says_so(
    api: Api, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages_module, "MAX_EVENTS_SHOWN", 3)
    job_id = (await submit(api, b"A. Hello.")).json()["id"]
    async with sessions.begin() as session:
        job = await jobs_repo.get_job(session, job_id=job_id)
        assert job is not None
        for n in range(4):
            await jobs_repo.add_event(session, job=job, kind="chunk", detail={"index": n})
    page = (await api.http.get(f"/jobs/{job_id}")).text
    shown = re.findall(r'data-event-id="(\d+)"', page)
    events = (await api.http.get(f"/api/jobs/{job_id}/events")).json()["data"]
    assert [int(i) for i in shown] == [event["id"] for event in events][-3:]
    assert f'href="/api/jobs/{job_id}/events"' in page


async def test_static_files_are_served(api: Api) -> None:
    for path, kind in (("/static/app.js", "javascript"), ("/static/style.css", "text/css")):
        response = await api.http.get(path)
        assert response.status_code == 200 and kind in response.headers["content-type"]


async def test_the_api_page_lists_every_operation_with_nothing_from_elsewhere(api: Api) -> None:
    home = await api.http.get("/")
    assert 'href="/reference"' in home.text
    response = await api.http.get("/reference")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    document = (await api.http.get("/openapi.json")).json()
    for path, methods in document["paths"].items():
        for method in methods:
            assert f"<code>{method.upper()} {path}</code>" in html
    assert "application/problem+json" in html
    # Everything it loads comes from this server (Swagger UI at /docs needs a CDN).
    assert not re.search(r'(src|href)="(https?:)?//', html)
