"""The offline parser on the annotated development plays of ../shared/plays."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from playparse.assemble import parse_text
from playparse.chunking import LONG_LINE
from playparse.evaluate import TARGETS, evaluate
from playparse.extraction.docx import docx_to_text
from playparse.extraction.normalise import normalise_text
from tests.extraction.books import book_docx
from tests.helpers import shared_plays

PLAYS = shared_plays()
CHUNK_SIZES = (200, 700, 2500, 20_000)
# Texts without blank lines and Word documents are checked at the extremes only (quicker).
EXTREME_CHUNK_SIZES = (200, 20_000)


def play_files() -> list[Any]:
    """One parameter per case and text file, e.g. "emilia-galotti-de/play.colon.txt"."""
    if not PLAYS.is_dir():
        return [
            pytest.param(
                None, id="absent", marks=pytest.mark.skip(reason=f"no shared plays at {PLAYS}")
            )
        ]
    files = sorted(PLAYS.glob("*/play*.txt"))
    return [pytest.param(f, id=f"{f.parent.name}/{f.name}") for f in files]


def moby_files() -> list[Any]:
    """The Moby e-texts among play_files()."""
    return [p for p in play_files() if p.values[0] is None or "moby" in p.values[0].parent.name]


def long_paragraph_files() -> list[Any]:
    """The plays whose Word paragraphs run too long to keep whole in the smallest chunks.

    The other plays' Word paragraphs fit whole into chunks, as their lines of text do.
    """
    names = ("chaika-ru/play.txt", "fruehlings-erwachen-de/play.inline.txt")
    return [p for p in play_files() if p.values[0] is None or p.id in names]


def without_blank_lines(text: str) -> str:
    """The text with every blank line removed, as some e-texts and conversions print it."""
    return "".join(line for line in text.splitlines(keepends=True) if line.strip())


def reindented(text: str, indent: str) -> str:
    """The text with its four-space indentation replaced by `indent`."""
    return re.sub(r"(?m)^    ", indent, text)


def word_document_text(path: Path) -> str:
    """The play typeset as a Word document and read back as a job reads it.

    Word paragraphs become lines of thousands of characters, which small chunks cut inside.
    """
    play = truth(path.parent)
    parts = [*play["acts"], *(scene for act in play["acts"] for scene in act["scenes"])]
    headings = [part["head"] for part in parts if part.get("head")]
    document = book_docx(path.read_text(encoding="utf-8"), headings=headings)
    return normalise_text(docx_to_text(document))


@cache
def truth(case: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((case / "truth.json").read_text(encoding="utf-8"))
    return result


def test_every_case_has_a_text_and_its_truth() -> None:
    if not PLAYS.is_dir():
        pytest.skip(f"no shared plays at {PLAYS}")
    cases = sorted(p for p in PLAYS.iterdir() if p.is_dir())
    assert cases, f"no cases in {PLAYS}"
    for case in cases:
        assert (case / "truth.json").is_file(), case.name
        assert list(case.glob("play*.txt")), case.name


@pytest.mark.parametrize("path", play_files())
def test_parse_meets_every_target(path: Path) -> None:
    played = parse_text(path.read_text(encoding="utf-8")).export()
    scores = evaluate(played, truth(path.parent))
    assert scores.missed_targets() == {}, f"targets {TARGETS}, scores {scores.as_dict()}"


@pytest.mark.parametrize("path", play_files())
def test_every_chunk_size_gives_the_same_playbook(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    exports = {size: parse_text(text, chunk_size=size).export() for size in CHUNK_SIZES}
    reference = exports[CHUNK_SIZES[-1]]
    for size in CHUNK_SIZES[:-1]:
        assert exports[size] == reference, f"chunk size {size} differs from {CHUNK_SIZES[-1]}"


@pytest.mark.parametrize("path", play_files())
def test_without_blank_lines_every_target_is_met(path: Path) -> None:
    text = without_blank_lines(path.read_text(encoding="utf-8"))
    scores = evaluate(parse_text(text).export(), truth(path.parent))
    assert scores.missed_targets() == {}, f"targets {TARGETS}, scores {scores.as_dict()}"


@pytest.mark.parametrize("indent", ["  ", "\t", " " * 8])
@pytest.mark.parametrize("path", moby_files())
def test_a_moby_text_indented_otherwise_and_without_blank_lines_meets_every_target(
    path: Path, indent: str
) -> None:
    text = without_blank_lines(reindented(path.read_text(encoding="utf-8"), indent))
    scores = evaluate(parse_text(text).export(), truth(path.parent))
    assert scores.missed_targets() == {}, f"targets {TARGETS}, scores {scores.as_dict()}"


@pytest.mark.parametrize("path", play_files())
def test_without_blank_lines_every_chunk_size_gives_the_same_playbook(path: Path) -> None:
    text = without_blank_lines(path.read_text(encoding="utf-8"))
    small, whole = (parse_text(text, chunk_size=size).export() for size in EXTREME_CHUNK_SIZES)
    assert small == whole


@pytest.mark.parametrize("path", long_paragraph_files())
def test_a_word_document_gives_the_same_playbook_in_small_chunks(path: Path) -> None:
    text = word_document_text(path)
    small, whole = (parse_text(text, chunk_size=size).export() for size in EXTREME_CHUNK_SIZES)
    assert max(len(line) for line in text.splitlines()) > LONG_LINE * EXTREME_CHUNK_SIZES[0]
    assert small == whole
