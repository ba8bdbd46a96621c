"""Cut a play's text into chunks at speech boundaries, so each chunk parses on its own."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from playparse.heuristic_patterns import INLINE_DIRECTION, match_heading

DEFAULT_TARGET = 2500
MIN_TARGET = 200
MAX_TARGET = 20_000
# A line up to this many targets long is kept whole, so chunks start at line starts; only a
# longer one (a long paragraph of a DOCX, a document without line breaks) is cut inside.
LONG_LINE = 10
# A line is cut inside only this far from its start or more: further than any heading or
# speaker label runs, so the head of the line reads the same in both pieces.
MIN_PREFIX = MIN_TARGET

# Where a chunk may end, best first. In printed plays a line that starts at the margin after a
# blank line is almost always a speaker label or a heading; a line opening with a word in
# capitals is a label in the layouts that put no blank line between speeches.
_AFTER_BLANK_AT_MARGIN = re.compile(r"(?<=\n)[ \t]*\n(?=[^\s])")
_CAPITALS_AT_MARGIN = re.compile(r"(?<=\n)(?=[^\W\d_][^\W\d_]+(?:[ .:]|$))", re.MULTILINE)
_AFTER_BLANK = re.compile(r"(?<=\n)[ \t]*\n(?=[ \t]*\S)")
_LINE_START = re.compile(r"(?<=\n)(?=.)")

_BEST, _LABEL, _PARAGRAPH, _LINE = 3, 2, 1, 0

# Inside a line: the spaces after a letter or digit, and any spaces.
_SPACE_AFTER_WORD = re.compile(r"(?<=[^\W_])[ \t]+(?=\S)")
# A run of spaces is tried from its start only, so a long run costs its length, not its square.
_ANY_SPACE = re.compile(r"(?<![ \t])[ \t]++(?=\S)")


@dataclass(frozen=True)
class Chunk:
    """A half-open range [start, end) of the text."""

    index: int
    start: int
    end: int


def _cut_points(text: str) -> list[list[int]]:
    """Candidate cut offsets for each rank, sorted."""
    best = [m.end() for m in _AFTER_BLANK_AT_MARGIN.finditer(text)]
    labels = [
        m.start() for m in _CAPITALS_AT_MARGIN.finditer(text) if _is_capitals_word(text, m.start())
    ]
    paragraphs = [m.end() for m in _AFTER_BLANK.finditer(text)]
    lines = [m.start() for m in _LINE_START.finditer(text)]
    # Whether a heading-shaped line is a heading can depend on the line right below it, which
    # a chunk ending there would not see; a blank line between them decides it either way.
    after_heading = {point for point in lines if _right_after_heading(text, point)}
    labels = [point for point in labels if point not in after_heading]
    lines = [point for point in lines if point not in after_heading]
    points: list[list[int]] = [[], [], [], []]
    points[_BEST] = best
    points[_LABEL] = labels
    points[_PARAGRAPH] = paragraphs
    points[_LINE] = lines
    return points


def _right_after_heading(text: str, point: int) -> bool:
    """Whether the line ending just before `point` is shaped like an act or scene heading."""
    before = text[text.rfind("\n", 0, point - 1) + 1 : point - 1]
    return bool(before.strip()) and match_heading(before) is not None


def _is_capitals_word(text: str, start: int) -> bool:
    end = start
    while end < len(text) and text[end].isalpha():
        end += 1
    word = text[start:end]
    return len(word) >= 2 and word.isupper()


def _nearest(points: list[int], low: int, high: int, goal: int) -> int | None:
    """The point in [low, high] closest to goal, or None."""
    i = bisect.bisect_left(points, goal)
    best: int | None = None
    for k in (i - 1, i):
        inside = 0 <= k < len(points) and low <= points[k] <= high
        if inside and (best is None or abs(points[k] - goal) < abs(best - goal)):
            best = points[k]
    if best is None:
        # goal may lie outside [low, high]; look for any point inside the window.
        k = bisect.bisect_left(points, low)
        if k < len(points) and points[k] <= high:
            best = points[k]
    return best


def _next_line_start(line_starts: list[int], after: int, limit: int) -> int | None:
    """The first line start after `after`, if it comes before `limit`."""
    k = bisect.bisect_right(line_starts, after)
    if k < len(line_starts) and line_starts[k] <= limit:
        return line_starts[k]
    return None


def _cut_inside_line(text: str, low: int, high: int, goal: int, limit: int) -> int:
    """Where to cut the line running across [low, high]: before a space, nearest to goal.

    The parser reads a chunk that starts inside a line by re-reading the line from its start
    (playparse.heuristic), so each piece must read as the whole line does: the cut falls
    before a space after a word (the head of the line then ends as a word, never as a label
    alone), outside the bracketed directions within the line, and at least MIN_PREFIX into
    it. When a bracketed direction covers the window, the cut comes after it (up to
    `limit`); failing all that, at any space in the window, or at `high`.
    """
    line_start = text.rfind("\n", 0, high) + 1
    low = max(low, line_start + MIN_PREFIX)
    line_end = text.find("\n", high)
    line_end = len(text) if line_end < 0 else line_end
    spans = [m.span() for m in INLINE_DIRECTION.finditer(text, line_start, line_end)]

    def outside(point: int) -> bool:
        return not any(start < point < end for start, end in spans)

    nearest: int | None = None
    for m in _SPACE_AFTER_WORD.finditer(text, low, min(line_end, limit)):
        point = m.start()
        if not outside(point):
            continue
        if point > high:
            # Nothing in the window: the first point after it.
            return nearest if nearest is not None else point
        if nearest is None or abs(point - goal) < abs(nearest - goal):
            nearest = point
    if nearest is not None:
        return nearest
    spaces = [m.start() for m in _ANY_SPACE.finditer(text, low, high + 1)]
    return min(spaces, key=lambda point: abs(point - goal)) if spaces else high


def plan_chunks(
    text: str, target_size: int = DEFAULT_TARGET, *, keep_together: int = 0
) -> list[Chunk]:
    """Plan chunks of about `target_size` characters that cover `text` exactly.

    Chunks end before a speaker label or heading when one lies within reach, else at a
    paragraph break, else at a line end. A chunk exceeds twice the target only to keep a long
    line whole (up to LONG_LINE targets), or to keep the front matter together. A longer line
    is cut inside, before a space (see `_cut_inside_line`).

    Args:
        text: the whole play.
        target_size: the wanted chunk length in characters, clamped to 200..20000.
        keep_together: the first chunk reaches at least this offset (the front matter, which
            is read as one piece).

    Returns:
        The chunks in order; none for an empty text.
    """
    target = min(max(target_size, MIN_TARGET), MAX_TARGET)
    points = _cut_points(text)
    chunks: list[Chunk] = []
    start = 0
    while start < len(text):
        if len(text) - start <= target * 3 // 2:
            end = len(text)
        else:
            low, high, goal = start + target // 2, start + 2 * target, start + target
            if start == 0 and keep_together > low:
                low, goal, high = keep_together, keep_together, keep_together + 2 * target
            found: int | None = None
            for rank in (_BEST, _LABEL, _PARAGRAPH, _LINE):
                found = _nearest(points[rank], low, high, goal)
                if found is not None:
                    break
            limit = start + LONG_LINE * target
            if found is None:
                found = _next_line_start(points[_LINE], high, limit)
            end = found if found is not None else _cut_inside_line(text, low, high, goal, limit)
        chunks.append(Chunk(index=len(chunks), start=start, end=end))
        start = end
    return chunks
