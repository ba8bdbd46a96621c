"""The jobs API over real HTTP, with a worker on the Temporal dev server."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from temporalio.worker import Worker

from tests.conftest import Api
from tests.helpers import EXAMPLE

PROBLEM = "application/problem+json"


async def submit(api: Api, content: bytes, name: str = "play.txt", **form: Any) -> httpx.Response:
    return await api.http.post(
        "/api/jobs", files={"file": (name, content)}, data={k: str(v) for k, v in form.items()}
    )


async def wait_until_final(api: Api, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        job: dict[str, Any] = (await api.http.get(f"/api/jobs/{job_id}")).json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


async def test_a_submitted_play_is_parsed_and_served(api: Api, worker: Worker) -> None:
    response = await submit(api, EXAMPLE.read_bytes(), EXAMPLE.name, chunk_size=4000, priority=5)
    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"/api/jobs/{job['id']}"
    assert job["status"] == "queued" and job["progress"] == 0
    assert (job["filename"], job["format"], job["provider"]) == (EXAMPLE.name, "txt", "heuristic")
    assert (job["priority"], job["chunk_size"], job["concurrency"]) == (5, 4000, 4)
    assert job["tenant_id"] == "default" and job["error"] is None

    done = await wait_until_final(api, job["id"])
    assert done["status"] == "completed", done["error"]
    assert done["progress"] == 100
    assert done["chunks_done"] == done["chunks_total"] > 1
    assert done["lines_found"] > 100
    assert done["started_at"] and done["completed_at"]

    playbook = (await api.http.get(f"/api/jobs/{job['id']}/result")).json()
    assert playbook["schema"] == "playbook/v1"
    assert playbook["title"].lower() == "emilia galotti"
    assert len(playbook["acts"]) == 5
    play = (await api.http.get(f"/api/plays/{done['play_id']}")).json()
    assert play["playbook"] == playbook and play["job_id"] == job["id"]

    events = (await api.http.get(f"/api/jobs/{job['id']}/events")).json()
    assert events["data"][0]["kind"] == "submitted"
    assert events["data"][-1]["kind"] == "completed"


async def test_an_unreadable_file_fails_the_job_with_a_reason(api: Api, worker: Worker) -> None:
    response = await submit(api, b"%PDF-1.7\n this is no PDF at all \n%%EOF", "broken.pdf")
    assert response.status_code == 202
    done = await wait_until_final(api, response.json()["id"])
    assert done["status"] == "failed"
    assert done["error"]["retryable"] is False
    assert "PDF" in done["error"]["message"]

    empty = await wait_until_final(api, (await submit(api, b"", "empty.txt")).json()["id"])
    assert empty["status"] == "failed"
    assert empty["error"]["type"] == "EmptyDocument"


async def test_not_a_document_is_415_and_the_type_comes_from_the_content(api: Api) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    response = await submit(api, png, "play.txt")
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:playparse:problem:unsupported-document"

    text_named_pdf = await submit(api, b"HAMLET. Sein oder nicht sein.", "play.pdf")
    assert text_named_pdf.status_code == 202
    assert text_named_pdf.json()["format"] == "txt"


async def test_invalid_options_and_unknown_ids_are_problems(api: Api) -> None:
    bad = await submit(api, b"A. Hello.", chunk_size=50)
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
    assert "chunk_size" in bad.json()["detail"]
    assert (await submit(api, b"A. Hello.", priority=9)).status_code == 422
    assert (await submit(api, b"A. Hello.", provider="nonsense")).status_code == 422
    assert (await submit(api, b"A. Hello.", concurrency=10_000)).status_code == 422
    missing_file = await api.http.post("/api/jobs", data={"priority": "3"})
    assert missing_file.status_code == 422

    unknown = await api.http.get("/api/jobs/job_doesnotexist")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
    assert (await api.http.get("/api/plays/nothing")).status_code == 404
    assert (await api.http.get("/api/jobs", params={"cursor": "!!"})).status_code == 400
    assert (await api.http.get("/api/jobs", params={"status": "bogus"})).status_code == 422


async def test_a_request_with_two_files_or_a_model_for_the_offline_parser_is_refused(
    api: Api,
) -> None:
    before = (await api.http.get("/api/jobs", params={"limit": 200})).json()["data"]
    two = await api.http.post(
        "/api/jobs",
        files=[("file", ("a.txt", b"ANNA. Hi.\n")), ("file", ("b.txt", b"BEN. Ho.\n"))],
    )
    assert two.status_code == 422 and two.headers["content-type"] == PROBLEM
    assert "one file per job" in two.json()["detail"]
    model = await submit(api, b"ANNA. Hi.\n", provider="heuristic", model="gpt-9")
    assert model.status_code == 422 and model.headers["content-type"] == PROBLEM
    assert "takes no model" in model.json()["detail"]
    # Neither left a job behind.
    after = (await api.http.get("/api/jobs", params={"limit": 200})).json()["data"]
    assert len(after) == len(before)


async def test_result_of_an_unfinished_job_is_409(api: Api) -> None:
    # No worker polls this test's task queue, so the job stays queued.
    job = (await submit(api, b"A. Hello there.")).json()
    response = await api.http.get(f"/api/jobs/{job['id']}/result")
    assert response.status_code == 409
    assert response.json()["job_status"] == "queued"


async def test_an_idempotency_key_returns_the_same_job(api: Api) -> None:
    headers = {"Idempotency-Key": "submit-42"}
    files = {"file": ("a.txt", b"A. Hello there.")}
    first = await api.http.post("/api/jobs", files=files, headers=headers)
    again = await api.http.post("/api/jobs", files=files, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    other = await api.http.post(
        "/api/jobs", files={"file": ("a.txt", b"B. Something else.")}, headers=headers
    )
    assert other.status_code == 422
    assert other.json()["type"] == "urn:playparse:problem:idempotency-key-reused"


async def test_jobs_are_listed_newest_first_with_filters_and_cursors(api: Api) -> None:
    ids = [(await submit(api, f"A. Line {i}.".encode())).json()["id"] for i in range(3)]
    page = (await api.http.get("/api/jobs", params={"limit": 2})).json()
    assert [job["id"] for job in page["data"]] == ids[::-1][:2]
    rest = await api.http.get("/api/jobs", params={"limit": 2, "cursor": page["next_cursor"]})
    assert rest.json()["data"][0]["id"] == ids[0]
    queued = (await api.http.get("/api/jobs", params={"status": "queued"})).json()
    assert {job["id"] for job in queued["data"]} >= set(ids)
    completed = (await api.http.get("/api/jobs", params={"status": "completed"})).json()
    assert not {job["id"] for job in completed["data"]} & set(ids)
