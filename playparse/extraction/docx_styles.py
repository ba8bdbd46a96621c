"""The few Word style properties extraction needs: italics, spacing and indentation, inherited."""

from __future__ import annotations

import math
from typing import Any

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FALSE = {"0", "false", "off"}
_SPACING_KEYS = (
    "before",
    "beforeLines",
    "beforeAutospacing",
    "after",
    "afterLines",
    "afterAutospacing",
)


def _on(element: Any) -> bool | None:
    """A Word on/off property: absent is None, present is on unless its value says off."""
    if element is None:
        return None
    return element.get(W + "val", "1").lower() not in _FALSE


def _spacing(ppr: Any) -> dict[str, bool]:
    """Which of space before / after a pPr sets, and to what (True: some space)."""
    found: dict[str, bool] = {}
    if ppr is None:
        return found
    spacing = ppr.find(W + "spacing")
    if spacing is not None:
        for side in ("before", "after"):
            values = [spacing.get(W + key) for key in _SPACING_KEYS if key.startswith(side)]
            values = [value for value in values if value is not None]
            if values:
                found[side] = any(value.lower() not in _FALSE for value in values)
    contextual = _on(ppr.find(W + "contextualSpacing"))
    if contextual is not None:
        found["contextual"] = contextual
    return found


# Indentation values Word writes in twentieths of a point, and in hundredths of a character.
_INDENT_KEYS = {
    "left": ("left", "start", "leftChars", "startChars"),
    "first": ("firstLine", "firstLineChars"),
    "hanging": ("hanging", "hangingChars"),
}
# One column of text per this many twips (6 pt, an average character in a 12 pt font).
TWIPS_PER_COLUMN = 120
_MAX_COLUMNS = 40


def _indentation(ppr: Any) -> dict[str, int]:
    """The indentations a pPr sets, in columns of text."""
    found: dict[str, int] = {}
    ind = ppr.find(W + "ind") if ppr is not None else None
    if ind is None:
        return found
    for name, keys in _INDENT_KEYS.items():
        # The character-based value wins over the absolute one when both are given.
        for key in sorted(keys, key=lambda key: not key.endswith("Chars")):
            value = ind.get(W + key)
            if value is None:
                continue
            try:
                number = float(value)
            except ValueError:
                continue
            if not math.isfinite(number):
                continue
            columns = number / 100 if key.endswith("Chars") else number / TWIPS_PER_COLUMN
            found[name] = round(columns)
            break
    return found


class Styles:
    """Style lookups for one document, following basedOn chains to the document defaults."""

    def __init__(self, styles: Any | None) -> None:
        self._italic: dict[str, bool | None] = {}
        self._spacing: dict[str, dict[str, bool]] = {}
        self._indent: dict[str, dict[str, int]] = {}
        self._based_on: dict[str, str] = {}
        self._default_paragraph: str | None = None
        self._default_italic: bool | None = None
        self._default_spacing: dict[str, bool] = {}
        self._default_indent: dict[str, int] = {}
        if styles is None:
            return
        defaults = styles.find(W + "docDefaults")
        if defaults is not None:
            rpr = defaults.find(f"{W}rPrDefault/{W}rPr")
            self._default_italic = _on(rpr.find(W + "i")) if rpr is not None else None
            default_ppr = defaults.find(f"{W}pPrDefault/{W}pPr")
            self._default_spacing = _spacing(default_ppr)
            self._default_indent = _indentation(default_ppr)
        for style in styles.iter(W + "style"):
            style_id = style.get(W + "styleId")
            if style_id is None:
                continue
            rpr = style.find(W + "rPr")
            self._italic[style_id] = _on(rpr.find(W + "i")) if rpr is not None else None
            self._spacing[style_id] = _spacing(style.find(W + "pPr"))
            self._indent[style_id] = _indentation(style.find(W + "pPr"))
            based_on = style.find(W + "basedOn")
            if based_on is not None and based_on.get(W + "val"):
                self._based_on[style_id] = based_on.get(W + "val")
            is_default = style.get(W + "default", "0").lower() not in _FALSE
            if style.get(W + "type") == "paragraph" and is_default:
                self._default_paragraph = style_id

    def _chain(self, style_id: str | None) -> list[str]:
        chain: list[str] = []
        while style_id is not None and style_id not in chain and len(chain) < 32:
            chain.append(style_id)
            style_id = self._based_on.get(style_id)
        return chain

    def paragraph_style(self, paragraph: Any) -> str | None:
        """The id of the paragraph's style, or of the default paragraph style."""
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        if style is not None and style.get(W + "val"):
            return str(style.get(W + "val"))
        return self._default_paragraph

    def run_italic(self, run: Any, paragraph_style: str | None) -> bool:
        """Whether a run shows in italics: its own formatting, then its styles, then defaults."""
        rpr = run.find(W + "rPr")
        if rpr is not None:
            direct = _on(rpr.find(W + "i"))
            if direct is not None:
                return direct
            character_style = rpr.find(W + "rStyle")
            if character_style is not None:
                for style_id in self._chain(character_style.get(W + "val")):
                    if self._italic.get(style_id) is not None:
                        return bool(self._italic[style_id])
        for style_id in self._chain(paragraph_style):
            if self._italic.get(style_id) is not None:
                return bool(self._italic[style_id])
        return bool(self._default_italic)

    def spacing(self, paragraph: Any, style: str | None) -> tuple[bool, bool, bool]:
        """Whether the paragraph has space before, space after, and contextual spacing."""
        found = _spacing(paragraph.find(W + "pPr"))
        for source in [self._spacing.get(style_id, {}) for style_id in self._chain(style)] + [
            self._default_spacing
        ]:
            for key, value in source.items():
                found.setdefault(key, value)
        return found.get("before", False), found.get("after", False), found.get("contextual", False)

    def indentation(self, paragraph: Any, style: str | None) -> tuple[int, int]:
        """The paragraph's indentation in columns of text: of its first line, of the others.

        Word's left indentation, plus a first-line indentation or less a hanging one; each
        property comes from the paragraph, else its style chain, else the document defaults.
        """
        found = _indentation(paragraph.find(W + "pPr"))
        sources = [self._indent.get(style_id, {}) for style_id in self._chain(style)]
        for source in [*sources, self._default_indent]:
            for key, value in source.items():
                found.setdefault(key, value)
        left = found.get("left", 0)
        # A hanging indentation cancels a first-line one, as in Word.
        first = left - found["hanging"] if "hanging" in found else left + found.get("first", 0)
        return _clamp(first), _clamp(left)


def _clamp(columns: int) -> int:
    return max(0, min(columns, _MAX_COLUMNS))
