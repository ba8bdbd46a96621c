"""GET /api/jobs/{id}/result.md and .txt: the parsed play as Markdown and as a plain script."""

from __future__ import annotations

from temporalio.worker import Worker

from api.routes.exports import attachment
from playparse import render
from playparse.assemble import parse_text
from tests.api.test_jobs_api import PROBLEM, submit, wait_until_final
from tests.conftest import Api
from tests.helpers import EXAMPLE


async def test_a_completed_play_downloads_as_markdown_and_script(api: Api, worker: Worker) -> None:
    job = (await submit(api, EXAMPLE.read_bytes(), EXAMPLE.name, chunk_size=2500)).json()
    assert (await wait_until_final(api, job["id"]))["status"] == "completed"
    expected = parse_text(EXAMPLE.read_text(encoding="utf-8"), 2500)

    markdown = await api.http.get(f"/api/jobs/{job['id']}/result.md")
    assert markdown.status_code == 200
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert 'filename="emilia-galotti.md"' in markdown.headers["content-disposition"]
    assert markdown.text == render.to_markdown(expected)

    script = await api.http.get(f"/api/jobs/{job['id']}/result.txt")
    assert script.headers["content-type"] == "text/plain; charset=utf-8"
    assert script.text == render.to_script(expected)

    part = await api.http.get(
        f"/api/jobs/{job['id']}/result.txt", params={"character": "odoardo", "cues": "true"}
    )
    assert part.text == render.to_script(render.part(expected, "odoardo", cues=True))
    assert 'filename="emilia-galotti-odoardo.txt"' in part.headers["content-disposition"]

    unknown = await api.http.get(f"/api/jobs/{job['id']}/result.md", params={"character": "hamlet"})
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM
    assert unknown.json()["type"] == "urn:playparse:problem:character-not-found"


async def test_an_unfinished_job_is_409_unless_partial(api: Api) -> None:
    job = (await submit(api, b"A. Hello there.")).json()  # no worker: it stays queued
    response = await api.http.get(f"/api/jobs/{job['id']}/result.md")
    assert response.status_code == 409 and response.json()["job_status"] == "queued"
    nothing_yet = await api.http.get(f"/api/jobs/{job['id']}/result.txt?partial=true")
    assert nothing_yet.json()["type"] == "urn:playparse:problem:nothing-parsed-yet"
    assert (await api.http.get("/api/jobs/job_nope/result.md")).status_code == 404


def test_any_file_name_makes_a_safe_content_disposition() -> None:
    assert attachment("Kabale und Liebe.md") == (
        "attachment; filename=\"Kabale und Liebe.md\"; filename*=UTF-8''Kabale%20und%20Liebe.md"
    )
    tricky = attachment('Die "Räuber"\r\n.txt')
    assert "\r" not in tricky and "\n" not in tricky
    assert 'filename="Die _R_uber___.txt"' in tricky
    assert "filename*=UTF-8''Die%20%22R%C3%A4uber%22%0D%0A.txt" in tricky
