"""Patterns of printed plays: numerals, act and scene headings, speaker labels, cast headings."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Literal

# --- numerals ----------------------------------------------------------------------------------

_ROMAN = re.compile(r"^(?=[MDCLXVI])M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def _ordinal_forms() -> dict[str, int]:
    forms: dict[str, int] = {}
    english = (
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty"
    ).split()
    english_ordinals = (
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
        "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
    ).split()
    german = (
        "erst zweit dritt viert fünft sechst siebent acht neunt zehnt elft zwölft dreizehnt "
        "vierzehnt fünfzehnt sechzehnt siebzehnt achtzehnt neunzehnt zwanzigst"
    ).split()
    russian = (
        "перв втор трет четверт пят шест седьм восьм девят десят одиннадцат двенадцат"
    ).split()
    french = (
        "premier deuxième troisième quatrième cinquième sixième septième huitième neuvième "
        "dixième onzième douzième treizième quatorzième quinzième"
    ).split()
    spanish = "primer segund tercer cuart quint sext séptim octav noven décim".split()
    italian = "prim second terz quart quint sest settim ottav non decim".split()
    for words in (english, english_ordinals):
        forms.update({w: n for n, w in enumerate(words, 1)})
    for n, stem in enumerate(german, 1):
        forms.update({stem + end: n for end in ("e", "er", "es", "en")})
    forms.update({"siebte": 7, "siebter": 7, "siebtes": 7, "eilfte": 11, "eilfter": 11})
    for n, stem in enumerate(russian, 1):
        forms.update({stem + end: n for end in ("ое", "ый", "ая", "ий", "ья", "ье", "ой")})
    forms.update({"четвёртое": 4, "четвёртый": 4, "четвёртая": 4})
    for n, word in enumerate(french, 1):
        forms[word] = n
        forms[word.replace("è", "e")] = n
    forms.update({"première": 1, "premiere": 1, "second": 2, "seconde": 2, "unique": 1})
    for words in (spanish, italian):
        for n, stem in enumerate(words, 1):
            forms.update({stem + end: n for end in ("o", "a", "")})
    forms.update({"primero": 1, "tercero": 3, "uno": 1, "dos": 2, "tres": 3})
    return forms


_WORDS = _ordinal_forms()


# Act and scene numbers above this are not read as numbers (a year, a page count, noise).
MAX_NUMERAL = 9999


def numeral(token: str) -> int | None:
    """The value of a number printed as digits, a Roman numeral or a word, else None."""
    token = token.strip(".:")
    if token.isdigit():
        # Only ASCII digits: "2¹" (a footnote mark) is isdigit() but no int().
        if not token.isascii() or len(token) > len(str(MAX_NUMERAL)):
            return None
        return int(token)
    if _ROMAN.match(token.upper()) and (token.isupper() or token.islower()):
        values = [_ROMAN_VALUES[c] for c in token.upper()]
        return sum(-v if v < nxt else v for v, nxt in zip(values, values[1:] + [0], strict=True))
    return _WORDS.get(token.casefold())


# --- headings ----------------------------------------------------------------------------------

_ACT_WORDS = "act acte akt aufzug atto acto jornada действие акт".split()
_SCENE_WORDS = (
    "scene scène szene scena escena auftritt bild cuadro tableau явление картина сцена".split()
)
_KEYWORD = r"(?P<kw>[^\W\d_]+)"
_NUMBER = r"(?P<num>[^\W_]+)"
# Possessive runs (*+, ++) and titles that end in a non-space keep every pattern here linear: a
# line of thousands of spaces must not cost seconds (a line may hold 10,000 characters).
_REST = r"(?P<rest>(?:\s*+[.:,;–—-]++\s*+|\s++)(?P<title>\S(?:.*\S)?)?|\s*+[.:]?)\s*+$"
_KEYWORD_FIRST = re.compile(rf"^{_KEYWORD}\s+(?:the\s+)?{_NUMBER}{_REST}", re.IGNORECASE)
_NUMBER_FIRST = re.compile(rf"^{_NUMBER}\.?\s+{_KEYWORD}{_REST}")


@dataclass(frozen=True)
class Heading:
    """An act or scene heading as printed."""

    kind: Literal["act", "scene"]
    number: int | None
    title: str
    setting: str | None


def _heading_kind(keyword: str) -> Literal["act", "scene"] | None:
    word = keyword.casefold()
    if word in _ACT_WORDS:
        return "act"
    if word in _SCENE_WORDS:
        return "scene"
    return None


def match_heading(line: str) -> Heading | None:
    """Read a line as an act or scene heading ("ACT I", "Erster Aufzug", "Явление 2. Сад")."""
    text = line.strip()
    if not text or len(text) > 160 or not text[0].isupper() and not text[0].isdigit():
        return None
    for pattern in (_KEYWORD_FIRST, _NUMBER_FIRST):
        m = pattern.match(text)
        if m is None or not m["kw"][0].isupper():
            continue
        kind = _heading_kind(m["kw"])
        number = numeral(m["num"])
        if kind is None or number is None:
            continue
        setting = (m["title"] or "").strip() or None
        if pattern is _NUMBER_FIRST and setting and not re.match(r"\s*[.:,;–—-]", m["rest"]):
            continue
        return Heading(kind=kind, number=number, title=text, setting=setting)
    return None


# --- speaker labels ----------------------------------------------------------------------------

PARTICLES = frozenset(
    "von van der de du di da del della des la le of the and und et y e и zu".split()
)
_ABBREVIATIONS = "Dr Mr Mrs Ms St Sr Sra Prof Mme Mlle Hr Fr Frl Jr Gen Capt Col Lt Sgt M".split()
_ABBREVIATION = rf"(?:{'|'.join(_ABBREVIATIONS)})\."
ABBREVIATION_KEYS = frozenset(a.casefold() for a in _ABBREVIATIONS)
_WORD = r"[^\W\d_][^\W\d_'’-]*"
_NAME = rf"(?:(?i:{_ABBREVIATION})\s?)?{_WORD}(?:\s(?:(?i:{_ABBREVIATION})|{_WORD})){{0,5}}"
_ASIDE = r"(?P<aside>\s*+[\[(][^\])]*+[\])])?"
LABEL_ALONE = re.compile(rf"^(?P<indent>[ \t]*+)(?P<name>{_NAME}){_ASIDE}\s*+(?P<punct>[.:])?\s*+$")
LABEL_INLINE = re.compile(
    rf"^(?P<indent>[ \t]*+)(?P<name>{_NAME}){_ASIDE}\s*+(?P<punct>[.:])\s++(?P<rest>\S.*)$"
)
_JOINT = re.compile(
    r"(?<!\s)\s*+(?:,|&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bи\b)\s*+", re.IGNORECASE
)


def label_key(label: str) -> str:
    """A label's comparison key: case-folded, punctuation and extra spaces removed.

    Compatibility normalisation comes first, so that a name typed with full-width letters or
    with its accents as separate combining marks (as some models and word processors send it)
    has the key of its usual spelling.
    """
    return " ".join(re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", label).casefold()))


def is_capitals(name: str) -> bool:
    """True for a name printed in capitals ("DER PRINZ", "DR. VON BRAUSEPULVER")."""
    words = [w for w in name.split() if w.casefold() not in PARTICLES or w.isupper()]
    letters = "".join(c for w in words for c in w if c.isalpha())
    if len(letters) < 2 or not letters.isupper():
        return False
    # A Roman numeral alone is a heading or a list number, never a speaker.
    return not all(_ROMAN.match(w.strip(".")) for w in words)


def is_name_like(name: str) -> bool:
    """True when every word but particles starts with a capital letter."""
    words = name.split()
    return (
        bool(words)
        and all(w[0].isupper() or w.casefold() in PARTICLES for w in words)
        and words[0][0].isupper()
    )


def _joint_parts(name: str) -> list[str]:
    return [p for p in _JOINT.split(name) if p]


def looks_joint(name: str) -> bool:
    """Whether a label has the shape of several speakers ("A and B", "A, B"), known or not."""
    return len(_joint_parts(name)) > 1


def split_joint(name: str, known: AbstractSet[str]) -> list[str]:
    """Split "A and B" into its speakers when each part is itself a known label."""
    parts = _joint_parts(name)
    if len(parts) > 1 and all(label_key(p) in known for p in parts):
        return parts
    return [name]


# Square brackets and underscores never occur in speech, so they mark a direction anywhere in a
# line; parentheses only do at the start of a line, since people speak in parentheses too.
INLINE_DIRECTION = re.compile(r"\[[^\]]*\]|(?<!\w)_[^_]+_(?!\w)")

# Lines of their own that bring characters on or off, or end an act: "Exit", "Enter Banquo",
# "Exeunt", "Curtain", "Vorhang", "Занавес", "Rideau", "Telón", "Sipario" (not "Alarum'd").
# Verbs of coming and going are kept to the forms only a direction uses ("Ab.", "Il sort.").
STAGE_LINE = re.compile(
    r"^(?:enter|exit|exeunt|re-enter|manet|manent|flourish|alarums?|sennet|tucket|curtain"
    r"|vorhang|занавес|входит|входят|уходит|уходят|rideau|telón|mutis|vase|vanse|sipario"
    r"|esce|escono)(?![\w'’-])"
    r"|^(?:alle\s+)?ab\W*$|^(?:il|elle|ils|elles)\s+sort(?:ent)?\b",
    re.IGNORECASE,
)


def ends_sentence(line: str | None) -> bool:
    """True when a printed line ends its sentence rather than running on into the next.

    A stop, a question or exclamation mark, a dash or a closing quote ends one; a word, a
    comma or a colon does not.
    """
    last = (line or "").rstrip()[-1:]
    return bool(last) and not last.isalnum() and last not in ",;:"


def clean_label(name: str) -> str:
    """A label as printed, spacing normalised and the closing period or colon dropped."""
    return " ".join(name.split()).rstrip(".:")


# --- front matter ------------------------------------------------------------------------------

CAST_HEADING = re.compile(
    r"^\s*+(?:dramatis\s+person(?:ae|æ)|the\s+persons\s+of\s+the\s+play|persons\s+represented|"
    r"characters|cast(?:\s+of\s+characters)?|(?:die\s+)?personen(?:\s+der\s+handlung)?|"
    r"mitwirkende|действующие\s+лица|лица|personnages|personajes|personaggi|interlocutori)"
    r"\s*+[.:]?\s*+$",
    re.IGNORECASE,
)
AUTHOR_LINE = re.compile(
    r"^\s*+(?:by|von|par|di|de|por|author:)\s++(?P<author>\S(?:.*\S)?)\s*+$", re.IGNORECASE
)
TITLE_LINE = re.compile(r"^\s*+title:\s++(?P<title>\S(?:.*\S)?)\s*+$", re.IGNORECASE)
