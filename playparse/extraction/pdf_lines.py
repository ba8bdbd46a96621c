"""A PDF page's text runs to lines of fixed-width text, spaced and placed as on the page."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

# A line whose type is this much larger than the text's is a heading.
HEADING_RATIO = 1.15
# Blank lines shown at most for one gap on a page.
_MAX_BLANK_LINES = 3

Runs = list[dict[str, Any]]


@dataclass(frozen=True)
class PageLines:
    """A page's lines of text, blank lines included, and how deep on the page each one sits.

    `depths` holds, for each line, its distance below a fixed level in line pitches (None for
    a blank line), comparable from page to page. A heading's depth counts one line more, the
    space above it that print drops at the top of a page.
    """

    lines: list[str]
    depths: list[float | None]


def line_key(run: dict[str, Any]) -> int:
    """A run's height on the page as pypdf groups runs into lines; larger is higher."""
    return int(run["ty"] * run["flip_sort"])


def text_size(pages: list[Runs | None]) -> float:
    """The size of the type most of the document's text is set in."""
    sizes: Counter[float] = Counter()
    for runs in pages:
        for run in runs or []:
            sizes[round(float(run["font_height"]), 1)] += len(run["text"].strip())
    sizes.pop(0.0, None)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def line_pitch(pages: list[Runs | None]) -> float | None:
    """The usual distance from one line of text to the next."""
    steps: list[int] = []
    for runs in pages:
        keys = sorted({line_key(run) for run in runs or [] if run["text"].strip()}, reverse=True)
        steps += [a - b for a, b in zip(keys, keys[1:], strict=False)]
    return float(statistics.median(steps)) if steps else None


def page_lines(
    runs: Runs, margin: float, char_width: float, size: float, pitch: float | None
) -> PageLines:
    """Lay a page's runs out as fixed-width lines, indented from `margin`.

    A gap between two lines becomes blank lines, one for each line pitch of space it holds
    beyond the first (rounded); a line in larger type than the text's `size` (a heading) has
    at least one blank line above and below it.
    """
    from pypdf._text_extraction._layout_mode import fixed_width_page, y_coordinate_groups

    if not runs:
        return PageLines([], [])
    shifted = [
        dict(run, tx=run["tx"] - margin, displaced_tx=run["displaced_tx"] - margin)
        for run in sorted(runs, key=lambda run: (line_key(run), -run["tx"]), reverse=True)
    ]
    groups = y_coordinate_groups(shifted)  # type: ignore[arg-type]
    lines: list[str] = []
    depths: list[float | None] = []
    previous: int | None = None
    previous_large = False
    for key, group in groups.items():
        text = str(fixed_width_page({key: group}, char_width, False, 1.0))
        if not text.strip():
            continue
        height = max(float(run["font_height"]) for run in group if run["text"].strip())
        step = pitch or height * 1.2 or 1.0
        large = size > 0 and height > size * HEADING_RATIO
        if previous is not None:
            blanks = math.floor((previous - key) / step + 0.5) - 1
            if large or previous_large:
                blanks = max(blanks, 1)
            blanks = min(max(blanks, 0), _MAX_BLANK_LINES)
            lines += [""] * blanks
            depths += [None] * blanks
        lines.append(text)
        depths.append(-key / step + (1 if large else 0))
        previous, previous_large = key, large
    return PageLines(lines, depths)
