"""Front matter: where the title page and cast list end and the play begins, and what they say."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from playparse.heuristic_layout import detect_layout, indent_of, lines_with_offsets
from playparse.heuristic_patterns import (
    AUTHOR_LINE,
    CAST_HEADING,
    LABEL_ALONE,
    LABEL_INLINE,
    PARTICLES,
    TITLE_LINE,
    clean_label,
    is_capitals,
    label_key,
    match_heading,
)
from playparse.schema import CastEntry

# A title page longer than this is not a title page.
MAX_FRONT_LINES = 80
# Title pages name and describe; speech runs on in clauses and exclaims or asks.
_SPEECH_MARKS = frozenset(",;!?…")


@dataclass
class FrontMatter:
    """The title page and cast list before the play's body."""

    title: str | None = None
    subtitle: str | None = None
    author: str | None = None
    cast: list[CastEntry] = field(default_factory=list)


def pretty_name(text: str) -> str:
    """A name printed in capitals in the case people write it ("DER PRINZ" -> "Der Prinz")."""
    text = " ".join(text.split())
    if not is_capitals(text):
        return text
    words: list[str] = []
    for word in text.split():
        lower = word.lower()
        if words and lower in PARTICLES:
            words.append(lower)
        else:
            words.append("-".join(part[:1].upper() + part[1:].lower() for part in word.split("-")))
    return " ".join(words)


def read_front_matter(text: str) -> FrontMatter:
    """Title, subtitle, author and cast list from the text before the play's body."""
    front = FrontMatter()
    lines = text.split("\n")
    i = 0
    title_lines: list[str] = []
    while i < len(lines) and not CAST_HEADING.match(lines[i]):
        stripped = lines[i].strip()
        if stripped:
            author, title = AUTHOR_LINE.match(stripped), TITLE_LINE.match(stripped)
            if author is not None and front.author is None:
                front.author = author["author"]
            elif title is not None:
                title_lines.insert(0, title["title"])
            elif len(title_lines) < 2 and front.author is None:
                title_lines.append(stripped)
        i += 1
    if title_lines:
        front.title = pretty_name(title_lines[0])
        front.subtitle = title_lines[1] if len(title_lines) > 1 else None
    front.cast = _read_cast(lines[i + 1 :])[0] if i < len(lines) else []
    return front


def _read_cast(lines: list[str]) -> tuple[list[CastEntry], int]:
    """Entries of a cast list: one per line, "Name, description"; deeper lines describe.

    Returns the entries and how many of `lines` the list takes.
    """
    entries: list[CastEntry] = []
    waiting: list[CastEntry] = []
    base: int | None = None
    seen_blank = False
    end = len(lines)
    for n, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            seen_blank = bool(entries)
            continue
        indent = indent_of(line)
        if base is None:
            base = indent
        if seen_blank and indent <= base and not line.startswith(" "):
            end = n
            break
        if indent > base and entries:
            note = stripped.strip("()[]").strip().rstrip(".")
            for entry in waiting or entries[-1:]:
                entry.description = note if entry.description is None else entry.description
            waiting = []
            continue
        name, _, description = stripped.partition(",")
        entry = CastEntry(
            name=name.strip().rstrip("."),
            description=description.strip().rstrip(".") or None,
        )
        entries.append(entry)
        # "Odoardo," / "Claudia Galotti," share the description printed below them.
        waiting = [*waiting, entry] if stripped.endswith(",") else []
    return [entry for entry in entries if entry.name], end


def find_front_matter_end(text: str) -> int | None:
    """Where the title page and cast list end and the play begins, or None if there are none.

    The body begins at the first act or scene heading, or earlier at a speech that comes
    before it (a prologue); a play without headings begins at the first speaker label after
    its cast list.
    """
    lines = lines_with_offsets(text)
    cast_at: int | None = None
    previous_blank = True
    for i, (offset, line) in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            previous_blank = True
            continue
        heading = match_heading(stripped)
        # Only a bare heading ("Erster Aufzug") is taken without a blank line before it.
        if heading is not None and (previous_blank or heading.setting is None):
            has_front = any(other.strip() for _, other in lines[:i])
            if not has_front or (i > MAX_FRONT_LINES and cast_at is None):
                return None
            start = _play_start(text, lines[:i], offset, cast_at)
            front = any(other.strip() for other_at, other in lines[:i] if other_at < start)
            return start if front else None
        if cast_at is None and CAST_HEADING.match(line):
            cast_at = i
        previous_blank = False
        if i > MAX_FRONT_LINES * 4 and cast_at is None:
            break
    if cast_at is None:
        return None
    # No headings: the play starts at the first speaker label after the cast list.
    after = "\n".join(line for _, line in lines[cast_at + 1 :])
    forms = {clean_label(label) for label in detect_layout(after).labels}
    seen_blank = False
    for offset, line in lines[cast_at + 1 :]:
        if not line.strip():
            seen_blank = True
            continue
        match = LABEL_ALONE.match(line) or LABEL_INLINE.match(line)
        if seen_blank and match and clean_label(match["name"]) in forms and indent_of(line) <= 2:
            return offset
    return None


def _play_start(
    text: str, before: list[tuple[int, str]], heading_at: int, cast_at: int | None
) -> int:
    """Where the play starts when speech comes before its first heading, else the heading.

    A speech there (a prologue, or an opening scene without a heading) is a paragraph after
    the title page and cast list that opens with a label printed with a period or a colon and
    goes on with what is spoken. The label names someone who speaks in the body or is in the
    cast list, or it is in capitals and printed as the body prints its labels. A paragraph
    naming an author belongs to the title page, and so does a first paragraph whose lines
    name and describe rather than speak.
    """
    start, cast = 0, list[CastEntry]()
    if cast_at is not None:
        cast, length = _read_cast([line for _, line in before[cast_at + 1 :]])
        start = cast_at + 1 + length
    body = text[heading_at:]
    speakers = {clean_label(label) for label in detect_layout(body).labels}
    known = {label_key(name) for name in speakers} | {label_key(entry.name) for entry in cast}
    style = _label_style(body, speakers)
    for k in range(start, len(before)):
        offset, line = before[k]
        if k > 0 and before[k - 1][1].strip():
            continue
        label = LABEL_ALONE.match(line) or LABEL_INLINE.match(line)
        if label is None or not label["punct"] or indent_of(line) > 2:
            continue
        paragraph = _paragraph(before, k)
        spoken = paragraph[1:] if label.re is LABEL_ALONE else [label["rest"], *paragraph[1:]]
        first = not any(other.strip() for _, other in before[:k])
        if (
            spoken
            and (
                label_key(label["name"]) in known
                or (is_capitals(label["name"]) and _style_of(label) == style)
            )
            and not any(AUTHOR_LINE.match(p) or TITLE_LINE.match(p) for p in paragraph)
            and not (first and not _reads_as_speech(spoken))
        ):
            return offset
    return heading_at


def _paragraph(lines: list[tuple[int, str]], k: int) -> list[str]:
    """The lines of the paragraph starting at line k, up to the next blank line."""
    paragraph = []
    for _, line in lines[k:]:
        if not line.strip():
            break
        paragraph.append(line.strip())
    return paragraph


def _style_of(label: re.Match[str]) -> tuple[str, str]:
    """How a label is printed: alone on its line or before the speech, and its punctuation."""
    return ("alone" if label.re is LABEL_ALONE else "inline", label["punct"] or "")


def _label_style(body: str, speakers: set[str]) -> tuple[str, str] | None:
    """The commonest way the body prints its speaker labels."""
    styles: Counter[tuple[str, str]] = Counter()
    for line in body.split("\n"):
        label = LABEL_ALONE.match(line) or LABEL_INLINE.match(line)
        if label is not None and clean_label(label["name"]) in speakers:
            styles[_style_of(label)] += 1
    return styles.most_common(1)[0][0] if styles else None


def _reads_as_speech(spoken: list[str]) -> bool:
    """Whether lines read as speech (clauses, questions, exclamations), not as a subtitle."""
    return any(mark in _SPEECH_MARKS for line in spoken for mark in line)
