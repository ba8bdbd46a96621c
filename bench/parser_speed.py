"""Offline throughput: the heuristic parser in characters/s and PDF extraction in pages/s.

- parser_chars_per_s: `playparse.assemble.parse_text` (pre-scan, chunking, heuristic parse,
  assembly) on the largest play under ../shared/plays, best of several runs.
- pdf_pages_per_s: the play typeset with fpdf2 as a book (A5, running headers, page numbers),
  then `playparse.extraction.extract` on it as a worker runs it (sandboxed child process
  included), best of several runs.

Run alone with `python -m bench.parser_speed`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from bench.harness import SHARED_PLAYS, Row, show, write_results
from playparse.assemble import parse_text
from playparse.extraction import DocumentFormat, extract

PARSE_RUNS = 7
PDF_RUNS = 3
# The PDF core fonts speak Latin-1; these are the only other characters the German plays use.
LATIN1 = str.maketrans({"–": "-", "—": "-", "„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'"})


def largest_play(root: Path = SHARED_PLAYS) -> Path:
    """The play text with the most characters under `root`."""
    texts = sorted(root.glob("*/play*.txt"))
    if not texts:
        raise FileNotFoundError(f"no plays under {root}")
    return max(texts, key=lambda path: len(path.read_text(encoding="utf-8")))


def latin1_play(root: Path = SHARED_PLAYS) -> Path:
    """The largest play that a PDF core font can typeset."""
    fits = [
        path
        for path in sorted(root.glob("*/play*.txt"))
        if all(ord(ch) < 256 for ch in path.read_text(encoding="utf-8").translate(LATIN1))
    ]
    if not fits:
        raise FileNotFoundError(f"no Latin-1 play under {root}")
    return max(fits, key=lambda path: len(path.read_text(encoding="utf-8")))


def play_pdf(path: Path) -> bytes:
    """The play typeset as the accuracy tests typeset it: an A5 book with running headers,
    page numbers and hyphenated line ends."""
    from tests.extraction.books import book_pdf

    return book_pdf(path.read_text(encoding="utf-8"), title=path.parent.name, author="")


def parser_chars_per_s(path: Path, runs: int = PARSE_RUNS) -> float:
    text = path.read_text(encoding="utf-8")
    best = min(_timed(lambda: parse_text(text)) for _ in range(runs))
    print(f"  parse_text: {path.parent.name}/{path.name}, {len(text):,} chars, best {best:.3f} s")
    return len(text) / best


def pdf_pages_per_s(path: Path, runs: int = PDF_RUNS) -> float:
    data = play_pdf(path)
    times: list[float] = []
    pages = 0
    for _ in range(runs):
        started = time.perf_counter()
        extracted = asyncio.run(extract(data, fmt=DocumentFormat.PDF, timeout_s=600))
        times.append(time.perf_counter() - started)
        pages = extracted.pages or 0
    best = min(times)
    print(
        f"  extract: {path.parent.name}/{path.name} as a {pages}-page PDF "
        f"({len(data) / 1024:,.0f} KB), best {best:.3f} s"
    )
    return pages / best


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def run() -> list[Row]:
    """Measure, print and return the rows (the caller writes them)."""
    print("parser speed")
    rows = [
        Row(
            "parser_chars_per_s",
            round(parser_chars_per_s(largest_play())),
            "chars/s",
            None,
            "higher",
        ),
        Row("pdf_pages_per_s", round(pdf_pages_per_s(latin1_play()), 1), "pages/s", None, "higher"),
    ]
    show(rows)
    return rows


def main() -> None:
    write_results(run())


if __name__ == "__main__":
    main()
