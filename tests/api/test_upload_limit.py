"""Uploads over the configured limit are refused with 413 before the body is parsed."""

from __future__ import annotations

import pytest

from playparse.config import Settings
from tests.conftest import Api

LIMIT = 64_000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_upload_bytes": LIMIT})


async def test_a_declared_length_over_the_limit_is_413(api: Api) -> None:
    response = await api.http.post("/api/jobs", files={"file": ("big.txt", b"a" * (LIMIT + 1))})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["max_bytes"] == LIMIT


async def test_a_streamed_body_over_the_limit_is_413(api: Api) -> None:
    async def body() -> object:
        # A well-formed multipart part that never ends, sent without a Content-Length.
        yield (
            b"--abc\r\n"
            b'Content-Disposition: form-data; name="file"; filename="big.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n"
        )
        for _ in range(40):
            yield b"x" * 4096

    response = await api.http.post(
        "/api/jobs",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=abc"},
    )
    assert response.status_code == 413
    assert response.json()["max_bytes"] == LIMIT


async def test_a_malformed_multipart_body_is_a_problem_400(api: Api) -> None:
    response = await api.http.post(
        "/api/jobs",
        content=b"x" * 100,
        headers={"content-type": "multipart/form-data; boundary=abc"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_upload_under_the_limit_is_accepted(api: Api) -> None:
    response = await api.http.post("/api/jobs", files={"file": ("ok.txt", b"A. Hi.\n" * 100)})
    assert response.status_code == 202


def test_the_limit_defaults_to_20_mb() -> None:
    assert Settings().max_upload_bytes == 20 * 1024 * 1024


async def test_a_file_of_exactly_the_limit_is_accepted_whatever_the_form_around_it(
    api: Api,
) -> None:
    response = await api.http.post(
        "/api/jobs",
        files={"file": ("edge.txt", b"A. Hi.\n" + b"a" * (LIMIT - 7))},
        data={"batch_key": "k" * 128, "provider": "heuristic", "priority": "5"},
        headers={"Idempotency-Key": "i" * 255},
    )
    assert response.status_code == 202, response.text


async def test_the_page_form_says_in_words_that_a_file_is_too_large(api: Api) -> None:
    """Just over the limit: the form comes back with the reason; far over: a page says it."""
    browser = {"Accept": "text/html,application/xhtml+xml"}
    over = await api.http.post(
        "/jobs", files={"file": ("big.txt", b"a" * (LIMIT + 1))}, headers=browser
    )
    assert over.status_code == 413
    assert "The file is larger than the limit of 62.5 KB." in over.text
    assert 'name="file"' in over.text  # the form, to choose another file
    far = await api.http.post(
        "/jobs", files={"file": ("huge.txt", b"a" * (4 * LIMIT))}, headers=browser
    )
    assert far.status_code == 413
    assert far.headers["content-type"].startswith("text/html")
    assert "larger than the limit of 62.5 KB" in far.text and 'href="/"' in far.text
