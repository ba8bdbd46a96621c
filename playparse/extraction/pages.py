"""Page texts to one text: running headers, footers and page numbers out, hyphenation joined."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

# How many lines at the top and at the bottom of a page may be a running header or footer.
_EDGE_LINES = 2
# A line is a running header or footer when it recurs at the same edge of at least three pages
# and of half of all pages, or of three quarters of the left-hand (or right-hand) pages. A
# speaker's name opens many pages of a two-person scene, but not that many.
_REPEAT_MIN = 3
_REPEAT_SHARE = 0.5
_FACING_SHARE = 0.75
_MAX_BLANK_LINES = 2
# A page ends short (or starts low) by at least this many lines when its text breaks there, and
# the usual top and bottom of a page's text are where all but this share of pages reach.
_SHORT_LINES = 0.9
_USUAL_SHARE = 0.05

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


def join_pages(
    pages: list[str], depths: Sequence[Sequence[float | None] | None] | None = None
) -> str:
    """Join page texts into one text the way a reader would see the book.

    Lines that recur at the top or bottom of many pages (running headers and footers, with
    their page numbers) and page numbers at a page's edge ("12", "- 12 -", "Page 12 of 80") are
    removed; a word hyphenated across a line end, also across pages, is joined when the next
    line starts in lower case ("Bitt-" + "schriften" -> "Bittschriften"); runs of blank lines are
    shortened to two.

    With the depth of each line on its page, a page break that is also a break in the text
    keeps a blank line: where a page's text ends a line or more higher than on full pages (a
    speech or scene ended and the space after it did not fit), or starts lower than usual (a
    heading counts the space above it that print drops at the top of a page).

    Args:
        pages: each page's text, top to bottom, lines separated by newlines.
        depths: for each page, each line's depth on the page in line pitches (None for blank
            lines), or None for a page or a document without them.

    Returns:
        The document's text.
    """
    raw = [page.split("\n") for page in pages]
    page_lines = [_trim_blank(lines) for lines in raw]
    offset = _page_number_offset(page_lines)
    running = _running_lines(page_lines, offset)
    spans = [_body_span(lines, index, running, offset) for index, lines in enumerate(raw)]
    breaks = _section_breaks(spans, depths) if depths is not None else set()
    lines: list[str] = []
    for index, (page, (start, end)) in enumerate(zip(raw, spans, strict=True)):
        if index in breaks and lines and start < end:
            lines.append("")
        lines.extend(page[start:end])
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


def _section_breaks(
    spans: list[tuple[int, int]], depths: Sequence[Sequence[float | None] | None]
) -> set[int]:
    """The pages before which the text breaks: the page before ended short, or this one starts low.

    The text of full pages starts at about the same depth and ends within a line of the
    lowest depth; the first page (often a title page) and the last are seldom full.
    """
    tops: list[float | None] = []
    bottoms: list[float | None] = []
    for (start, end), page in zip(spans, depths, strict=True):
        known = start < end and page is not None and len(page) >= end
        tops.append(page[start] if known and page is not None else None)
        bottoms.append(page[end - 1] if known and page is not None else None)
    usual_top = _percentile([top for top in tops[1:] if top is not None], _USUAL_SHARE)
    usual_bottom = _percentile(
        [bottom for bottom in bottoms[:-1] if bottom is not None], 1 - _USUAL_SHARE
    )
    if usual_top is None or usual_bottom is None:
        return set()
    breaks = set()
    for index in range(1, len(spans)):
        top, bottom = tops[index], bottoms[index - 1]
        if (bottom is not None and usual_bottom - bottom >= _SHORT_LINES) or (
            top is not None and top - usual_top >= _SHORT_LINES
        ):
            breaks.add(index)
    return breaks


def _percentile(values: list[float], share: float) -> float | None:
    # A few odd pages (a figure, a footnote kept as text) must not decide what full is.
    if len(values) < _REPEAT_MIN:
        return None
    return sorted(values)[round(share * (len(values) - 1))]


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
