"""Make extracted text safe to store and to show to a parser or a language model."""

from __future__ import annotations

import re
import unicodedata

# Characters that end a line, whatever produced them: Windows and old Mac line ends, form feed,
# vertical tab (Word's manual line break in text exports), NEL and the Unicode separators.
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# Removed outright: C0 and C1 controls (NUL included, which PostgreSQL rejects), lone
# surrogates (not encodable as UTF-8), and invisible characters that can hide text from a
# reader while a language model still sees it: soft hyphen, zero-width spaces and joiners,
# bidirectional overrides and isolates, invisible operators, Hangul fillers, variation
# selectors and Unicode tag characters.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff"
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]+"
)
# Spaces that look like a space but do not match one: no-break, figure, narrow no-break and
# the typographic widths.
_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f]")
# Longer lines are broken before a space. No play prints one (the longest in the shared plays
# is 136 characters; a DOCX paragraph is one line), and a chunk that starts inside a line
# carries the line's start with it for the parser to re-read, so a file of one enormous line
# would make planning quadratic and every chunk's context as long as the line.
MAX_LINE_CHARS = 10_000


def normalise_text(text: str) -> str:
    """Clean extracted text so it is safe to store and parse.

    Line ends become `\\n` (also form feed, vertical tab and the Unicode line separators);
    control characters other than `\\n` and `\\t` are removed, and so are zero-width, bidi
    control, variation selector and tag characters that could hide instructions to a language
    model; no-break and other typographic spaces become plain spaces; the result is in Unicode
    NFC with trailing spaces and tabs stripped from every line; a line longer than
    MAX_LINE_CHARS is broken into lines of at most that length, before a space where it has one.

    Args:
        text: text as extracted or decoded.

    Returns:
        The normalised text, storable in PostgreSQL (no NUL, no lone surrogates).
    """
    text = _LINE_BREAKS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return "\n".join(piece for line in text.split("\n") for piece in _broken(line.rstrip(" \t")))


def _broken(line: str) -> list[str]:
    """The line, or its pieces of at most MAX_LINE_CHARS, cut before a space if there is one."""
    if len(line) <= MAX_LINE_CHARS:
        return [line]
    pieces = []
    start = 0
    while len(line) - start > MAX_LINE_CHARS:
        end = start + MAX_LINE_CHARS
        cut = line.rfind(" ", start + MAX_LINE_CHARS // 2, end)
        if cut < 0:
            cut = end
        pieces.append(line[start:cut].rstrip(" \t"))
        start = cut
        while start < len(line) and line[start] == " ":
            start += 1
    pieces.append(line[start:])
    return pieces
