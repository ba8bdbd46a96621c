"""Page texts to one text: running headers, footers and page numbers out, hyphenation joined."""

from __future__ import annotations

import math
import re
from collections import Counter

# How many lines at the top and at the bottom of a page may be a running header or footer.
_EDGE_LINES = 2
# A line is a running header or footer when it recurs at the same edge of at least three pages
# and of half of all pages, or of three quarters of the left-hand (or right-hand) pages. A
# speaker's name opens many pages of a two-person scene, but not that many.
_REPEAT_MIN = 3
_REPEAT_SHARE = 0.5
_FACING_SHARE = 0.75
_MAX_BLANK_LINES = 2

_PAGE_NUMBER = re.compile(
    r"^[\s\-–—(\[|]*(?P<label>(?:page|p\.|pg\.|seite|s\.|pagina|página|страница|стр\.?)\s*)?"
    r"(?P<number>\d{1,4})(?:\s*(?:/|of|von|de|из)\s*\d{1,4})?[\s\-–—)\]|.]*$",
    re.IGNORECASE,
)
# A page number printed beside a running title: "12    EMILIA GALOTTI", "Lessing    13".
_NUMBER_BESIDE = re.compile(r"^\s*(?P<lead>\d{1,4})\s+(?=\S)|(?<=\S)\s+(?P<trail>\d{1,4})\s*$")
_SPACES = re.compile(r"\s+")
# A word broken at the end of a line: a letter, then a hyphen (or soft hyphen), nothing after.
_BROKEN_WORD = re.compile(r"(?<=[^\W\d_])(-|\u00ad)$")


def join_pages(pages: list[str]) -> str:
    """Join page texts into one text the way a reader would see the book.

    Lines that recur at the top or bottom of many pages (running headers and footers, with
    their page numbers) and page numbers at a page's edge ("12", "- 12 -", "Page 12 of 80") are
    removed; a word hyphenated across a line end, also across pages, is joined when the next
    line starts in lower case ("Bitt-" + "schriften" -> "Bittschriften"); runs of blank lines are
    shortened to two.

    Pages may come framed: with blank lines for the empty space above and below their text, so
    that every page spans the same number of lines. A page whose text ends higher than that of
    most pages ended where a speech, scene or act ended and the space after it did not fit
    (space at the top of a page is dropped in print), and one that starts lower begins a new
    section; a blank line between the two pages keeps that break.

    Args:
        pages: each page's text, top to bottom, lines separated by newlines.

    Returns:
        The document's text.
    """
    raw = [page.split("\n") for page in pages]
    page_lines = [_trim_blank(lines) for lines in raw]
    offset = _page_number_offset(page_lines)
    running = _running_lines(page_lines, offset)
    spans = [_body_span(lines, index, running, offset) for index, lines in enumerate(raw)]
    breaks = _section_breaks(
        [start for start, _ in spans], [len(lines) - end for lines, (_, end) in zip(raw, spans)]
    )
    lines: list[str] = []
    for index, (lines_of_page, (start, end)) in enumerate(zip(raw, spans, strict=True)):
        if index in breaks and lines and start < end:
            lines.append("")
        lines.extend(lines_of_page[start:end])
    return "\n".join(_limit_blank_runs(_join_hyphenated([line.rstrip() for line in lines])))


def _trim_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _key(line: str, index: int, offset: int | None) -> str:
    """A line as it recurs from page to page: without its page number, spaces collapsed."""
    if offset is not None:
        line = _NUMBER_BESIDE.sub(
            lambda match: (
                "" if int(match["lead"] or match["trail"]) - index == offset else match[0]
            ),
            line,
        )
    return _SPACES.sub(" ", line.strip())


def _edges(lines: list[str]) -> tuple[list[str], list[str]]:
    filled = [line for line in lines if line.strip()]
    return filled[:_EDGE_LINES], filled[-_EDGE_LINES:]


def _running_lines(pages: list[list[str]], offset: int | None) -> tuple[set[str], set[str]]:
    # Two pages cannot tell a running header from a coincidence.
    if len(pages) < 3:
        return set(), set()
    found: list[set[str]] = []
    for edge in (0, 1):
        overall: Counter[str] = Counter()
        by_parity: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
        for index, lines in enumerate(pages):
            keys = {_key(line, index, offset) for line in _edges(lines)[edge]}
            overall.update(keys)
            by_parity[index % 2].update(keys)
        needed = max(_REPEAT_MIN, math.ceil(len(pages) * _REPEAT_SHARE))
        running = {key for key, count in overall.items() if count >= needed}
        for parity, counts in enumerate(by_parity):
            # Books often put the author on left-hand pages and the title on right-hand ones.
            facing = len(range(parity, len(pages), 2))
            needed = max(_REPEAT_MIN, math.ceil(facing * _FACING_SHARE))
            running |= {key for key, count in counts.items() if count >= needed}
        found.append(running)
    return found[0], found[1]


def _page_number_offset(pages: list[list[str]]) -> int | None:
    """The usual difference between a number at a page's edge and the page's index.

    Numbers on a line of their own decide; numbers beside a running title only when there are
    none, and only on a page's outermost lines.
    """
    alone: Counter[int] = Counter()
    beside: Counter[int] = Counter()
    for index, lines in enumerate(pages):
        top, bottom = _edges(lines)
        for line in {*top, *bottom}:
            if (match := _PAGE_NUMBER.match(line)) is not None:
                alone[int(match["number"]) - index] += 1
        for line in {*top[:1], *bottom[-1:]}:
            if (match := _NUMBER_BESIDE.search(line)) is not None:
                beside[int(match["lead"] or match["trail"]) - index] += 1
    for offsets in (alone, beside):
        if offsets:
            offset, count = offsets.most_common(1)[0]
            # One page alone cannot show a numbering, unless the document is that one page.
            if count >= 2 or len(pages) == 1:
                return offset
    return None


def _is_page_number(line: str, index: int, offset: int | None) -> bool:
    match = _PAGE_NUMBER.match(line)
    if match is None:
        return False
    # "Page 7" is a page number anywhere at the edge; a bare "7" only when it counts pages.
    return bool(match["label"]) or int(match["number"]) - index == offset


def _body_span(
    lines: list[str], index: int, running: tuple[set[str], set[str]], offset: int | None
) -> tuple[int, int]:
    """Where a page's text starts and ends once its header, footer and page number are gone."""
    top_keys, bottom_keys = running
    # The first page is usually a title page, whose title may well be the running header.
    top_keys = top_keys if index else set()

    def removable(line: str, keys: set[str]) -> bool:
        return _key(line, index, offset) in keys or _is_page_number(line, index, offset)

    start, end = 0, len(lines)
    for _ in range(_EDGE_LINES):
        start, end = _skip_blank(lines, start, end)
        if start < end and removable(lines[start], top_keys):
            start += 1
    for _ in range(_EDGE_LINES):
        start, end = _skip_blank(lines, start, end)
        if start < end and removable(lines[end - 1], bottom_keys):
            end -= 1
    return _skip_blank(lines, start, end)


def _skip_blank(lines: list[str], start: int, end: int) -> tuple[int, int]:
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start, end


def _section_breaks(above: list[int], below: list[int]) -> set[int]:
    """The pages before which a section break fell: the one before ended short, or it starts low.

    Most pages are full, so the usual space above and below a page's text is that of full
    pages; a page needs at least a line more to count.
    """
    if len(above) < _REPEAT_MIN:
        return set()
    # The first page (a title page) and the last (the play's end) are seldom full.
    usual_below = Counter(below[:-1]).most_common(1)[0][0]
    usual_above = Counter(above[1:]).most_common(1)[0][0]
    return {
        index
        for index in range(1, len(above))
        if below[index - 1] > usual_below or above[index] > usual_above
    }


def _join_hyphenated(lines: list[str]) -> list[str]:
    joined: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        rest = following.lstrip()
        broken = _BROKEN_WORD.search(line)
        if broken and rest and (rest[0].islower() or broken.group(1) == "\u00ad"):
            # Move the word's second half up and keep the next line (and its indentation),
            # so verse keeps its line breaks.
            fragment, _, remainder = rest.partition(" ")
            joined.append(line[: broken.start()] + fragment)
            remainder = remainder.lstrip()
            if remainder:
                lines[index + 1] = following[: len(following) - len(rest)] + remainder
                index += 1
            else:
                index += 2
            continue
        joined.append(line)
        index += 1
    return joined


def _limit_blank_runs(lines: list[str]) -> list[str]:
    kept: list[str] = []
    blank = 0
    for line in lines:
        blank = blank + 1 if not line.strip() else 0
        if blank <= _MAX_BLANK_LINES:
            kept.append(line)
    return kept
