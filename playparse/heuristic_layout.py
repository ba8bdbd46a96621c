"""How a play is laid out on the page: label style, speech indentation, line width."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from playparse.heuristic_patterns import (
    ABBREVIATION_KEYS,
    LABEL_ALONE,
    LABEL_INLINE,
    clean_label,
    ends_sentence,
    is_capitals,
    is_name_like,
    label_key,
    match_heading,
)

DEFAULT_WRAP = 72
_OPENERS = "([{_"


@dataclass
class Layout:
    """Layout hints for the line reader; `known` holds label keys accepted as speakers."""

    speech_indent: int = 0
    indented_speech_blocks: bool = False
    wrap_width: int = DEFAULT_WRAP
    labels: list[str] = field(default_factory=list)
    # Whether blank lines set speeches apart. Without them, indentation alone marks where a
    # paragraph of direction begins inside a speech.
    spaced_speeches: bool = True

    @property
    def known(self) -> set[str]:
        return {label_key(label) for label in self.labels}


def indent_of(line: str) -> int:
    """Leading whitespace width, tabs counted as four spaces."""
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def lines_with_offsets(text: str) -> list[tuple[int, str]]:
    """Each line of `text` with the offset where it starts."""
    result, offset = [], 0
    for line in text.split("\n"):
        result.append((offset, line))
        offset += len(line) + 1
    return result


def next_nonblank(lines: list[str]) -> list[int | None]:
    """For each line, the index of the next non-blank line after it."""
    result: list[int | None] = [None] * len(lines)
    following: int | None = None
    for i in range(len(lines) - 1, -1, -1):
        result[i] = following
        if lines[i].strip():
            following = i
    return result


def _skip_bracketed(lines: list[str], i: int) -> int:
    """The first line at or after i that is not part of a bracketed stage direction."""
    while i < len(lines) and lines[i].strip()[:1] in _OPENERS and lines[i].strip():
        opener = lines[i].strip()[0]
        closer = {"(": ")", "[": "]", "{": "}", "_": "_"}[opener]
        body = lines[i].strip()[1:]
        while closer not in body and i + 1 < len(lines) and lines[i + 1].strip():
            i += 1
            body = lines[i]
        i += 1
    return i


# Lines within this many characters of the width count as filled to it.
WRAP_SLACK = 12
NO_WRAP = 10_000


def _wrap_width(lines: list[str]) -> int:
    """The width the typesetter wrapped prose at; NO_WRAP when nothing looks wrapped.

    A wrapped line is filled nearly to the width and its sentence runs on into the next line,
    which then often starts in lower case; verse lines start with a capital letter.
    """
    lengths = sorted(len(line.rstrip().expandtabs(4)) for line in lines if line.strip())
    if len(lengths) < 20:
        return DEFAULT_WRAP
    width = lengths[int(len(lengths) * 0.98)]
    filled = runs_on = 0
    for line, following in zip(lines, lines[1:], strict=False):
        nxt = following.strip()
        if len(line.rstrip().expandtabs(4)) >= width - WRAP_SLACK and nxt[:1].isalpha():
            filled += 1
            runs_on += nxt[0].islower()
    return width if filled and runs_on * 4 >= filled else NO_WRAP


def wrapped_mid_sentence(line: str | None, wrap_width: int) -> bool:
    """True when `line` was filled to the measure and broke off mid-sentence.

    The line after such a line continues its sentence, even when it happens to open with a
    word and a colon ("... gebracht werden" / "muß: so weiß ich ..."), since a speech ends
    its last sentence.
    """
    text = (line or "").rstrip().expandtabs(4)
    return len(text) >= wrap_width - WRAP_SLACK and not ends_sentence(text)


def detect_layout(text: str, known: Iterable[str] = ()) -> Layout:
    """Judge the layout of a play's body (or of one chunk of it) from its lines.

    Args:
        text: the body of the play, front matter excluded.
        known: names known to be speakers already (cast list entries).

    Returns:
        The layout hints the line reader needs.
    """
    lines = text.splitlines()
    ahead = next_nonblank(lines)
    wrap_width = _wrap_width(lines)
    at_margin: Counter[str] = Counter()
    names: dict[str, str] = {}
    moby_hits = alone_total = 0
    speech_indents: Counter[int] = Counter()
    colon_names: Counter[str] = Counter()
    # Each candidate label's key, and whether a blank line comes before it.
    label_lines: list[tuple[str, bool]] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped[0] in _OPENERS or match_heading(stripped):
            continue
        indent = indent_of(line)
        m = LABEL_ALONE.match(line)
        inline = None if m else LABEL_INLINE.match(line)
        found = m or inline
        if found is None or found["name"].casefold() in ABBREVIATION_KEYS:
            continue
        name = found["name"]
        key = label_key(name)
        label_lines.append((key, i == 0 or not lines[i - 1].strip()))
        if key not in names or (is_capitals(name) and not is_capitals(names[key])):
            # The form printed in capitals is the label; the same name in a direction is not.
            names[key] = clean_label(name)
        nxt = ahead[i]
        if m is not None:
            if nxt is None or len(name) > 40 or not is_name_like(name):
                continue
            alone_total += 1
            if indent == 0:
                at_margin[key] += 1
                # Moby: the label alone at the margin, its speech indented below it, with a
                # blank line between them, or with none between any speeches.
                unspaced = i == 0 or bool(lines[i - 1].strip())
                indented = indent_of(lines[nxt]) >= 2 and lines[nxt].strip()[0] not in _OPENERS
                if indented and (nxt > i + 1 or unspaced):
                    moby_hits += 1
            if is_capitals(name) or key in known:
                j = _skip_bracketed(lines, nxt)
                if j < len(lines) and lines[j].strip():
                    speech_indents[indent_of(lines[j])] += 1
        elif (
            inline is not None
            and is_capitals(name)
            and indent == 0
            and i + 1 < len(lines)
            and lines[i + 1].strip()
        ):
            following = lines[i + 1].strip()
            if following[0] not in _OPENERS and not LABEL_INLINE.match(lines[i + 1]):
                speech_indents[indent_of(lines[i + 1])] += 1
        # A colon label starts with a capital and a line of its own, not the rest of a
        # wrapped sentence.
        if (
            found["punct"] == ":"
            and name[0].isupper()
            and not (i and wrapped_mid_sentence(lines[i - 1], wrap_width))
        ):
            colon_names[key] += 1

    moby = moby_hits >= 3 and moby_hits * 2 >= alone_total
    speech_indent = speech_indents.most_common(1)[0][0] if speech_indents else 0
    if moby:
        speech_indent = max(speech_indent, 2)
    known_keys = set(known)
    accepted = [
        key
        for key in names
        if is_capitals(names[key])
        or key in known_keys
        or (moby and at_margin[key] > 0)
        or colon_names[key] >= 2
    ]
    accepted_keys = set(accepted)
    spaced_labels = [spaced for key, spaced in label_lines if key in accepted_keys]
    return Layout(
        speech_indent=speech_indent,
        indented_speech_blocks=moby,
        wrap_width=wrap_width,
        labels=[names[key] for key in accepted],
        spaced_speeches=not spaced_labels or sum(spaced_labels) * 2 >= len(spaced_labels),
    )
