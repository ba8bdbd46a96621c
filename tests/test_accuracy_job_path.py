"""Accuracy through the real job path: every shared play as TXT, and typeset as PDF and DOCX.

Each play of ../shared/plays is submitted to the API (POST /api/jobs), parsed by a worker on
the Temporal dev server, and its playbook (GET /result) scored against the case's truth. The
text must meet every target; the same play typeset as a printed book (PDF: running headers,
page numbers, hyphenated line ends) and as a Word document (DOCX: speaker labels in paragraphs
of their own, directions in italics) must score within 0.01 of the text on every figure.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from temporalio.worker import Worker

from playparse.evaluate import TARGETS, Scores, evaluate
from tests.api.test_jobs_api import submit, wait_until_final
from tests.conftest import Api
from tests.extraction.books import book_docx, book_pdf, fonts_available
from tests.helpers import shared_plays

PLAYS = shared_plays()
FORMATS = ("txt", "pdf", "docx")
# A typeset play may score this much below the same play as text on any figure.
TOLERANCE = 0.01
# Few, large chunks keep the file quick; that any chunk size gives the same playbook is
# tested in tests/parser/test_shared_plays.py.
CHUNK_SIZE = 20_000

# The job path needs a database, not both: SQLite alone keeps this file within its time.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


# Known faults of the parser (not of extraction) that the typeset text runs into; each
# mark goes when the parser is fixed (strict: an unexpected pass fails, as a reminder).
PARSER_FAULTS: dict[tuple[str, str], str] = {}


def plays() -> list[Any]:
    """One parameter per case, text file and format, e.g. "chaika-ru/play.txt-pdf"."""
    if not PLAYS.is_dir():
        reason = f"no shared plays at {PLAYS}"
        return [pytest.param(None, "txt", id="absent", marks=pytest.mark.skip(reason=reason))]
    params = []
    for path in sorted(PLAYS.glob("*/play*.txt")):
        name = f"{path.parent.name}/{path.name}"
        for fmt in FORMATS:
            fault = PARSER_FAULTS.get((name, fmt))
            marks = [pytest.mark.xfail(reason=fault, strict=True)] if fault else []
            params.append(pytest.param(path, fmt, id=f"{name}-{fmt}", marks=marks))
    return params


@cache
def truth(case: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    return result


def headings(play: dict[str, Any]) -> list[str]:
    """The act and scene headings as printed, which a typesetter sets apart."""
    acts = play["acts"]
    scenes = [scene for act in acts for scene in act["scenes"]]
    return [part["head"] for part in [*acts, *scenes] if part.get("head")]


def document(path: Path, fmt: str) -> tuple[str, bytes]:
    """The play as a file of the format: the text itself, or the text typeset."""
    text = path.read_text(encoding="utf-8")
    if fmt == "txt":
        return path.name, text.encode("utf-8")
    play = truth(path.parent)
    if fmt == "docx":
        return f"{path.stem}.docx", book_docx(text, headings=headings(play))
    # Cases alternate page numbers in the footer and beside the running header.
    numbers = ("footer", "header")[sorted(PLAYS.iterdir()).index(path.parent) % 2]
    pdf = book_pdf(
        text,
        title=play.get("title") or path.parent.name,
        author=play.get("author") or "",
        headings=headings(play),
        numbers=numbers,
    )
    return f"{path.stem}.pdf", pdf


_text_scores: dict[Path, Scores] = {}


async def job_scores(api: Api, path: Path, fmt: str) -> Scores:
    """Submit the play in the format, wait for the job, score its playbook."""
    name, content = document(path, fmt)
    response = await submit(api, content, name, chunk_size=CHUNK_SIZE, concurrency=4)
    assert response.status_code == 202, response.text
    job = await wait_until_final(api, response.json()["id"], timeout=60)
    assert job["status"] == "completed", job["error"]
    assert job["format"] == fmt
    result = await api.http.get(f"/api/jobs/{job['id']}/result")
    assert result.status_code == 200, result.text
    return evaluate(result.json(), truth(path.parent))


@pytest.mark.parametrize(("path", "fmt"), plays())
async def test_a_shared_play_meets_the_targets_through_a_job(
    api: Api, worker: Worker, path: Path, fmt: str
) -> None:
    if fmt == "pdf" and not fonts_available():
        pytest.skip("no DejaVu fonts to typeset the play (Debian's fonts-dejavu-core)")
    scores = await job_scores(api, path, fmt)
    if fmt == "txt":
        _text_scores[path] = scores
        assert scores.missed_targets() == {}, f"targets {TARGETS}, scores {scores.as_dict()}"
        return
    if path not in _text_scores:
        _text_scores[path] = await job_scores(api, path, "txt")
    text = _text_scores[path].as_dict()
    worse = {
        name: (value, text[name])
        for name, value in scores.as_dict().items()
        if value < text[name] - TOLERANCE
    }
    assert worse == {}, f"{fmt} below the text's figures (value, text): {worse}"
