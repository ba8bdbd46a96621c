"""The outline pre-scan: one quick pass over the whole play before any chunk is parsed.

It finds the front matter (title page, cast list), the layout, the acts and scenes, and the
characters with their stable ids, and remembers where the reader stands at every line start, so
that each chunk can be given the act, scene, open speech and cast it begins in and be parsed on
its own (in any order, in parallel) with the same outcome as one pass over the whole play.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from typing import NamedTuple

from pydantic import BaseModel, Field, PrivateAttr

from playparse.front_matter import find_front_matter_end, pretty_name, read_front_matter
from playparse.heuristic import Reader
from playparse.heuristic_context import ReaderState
from playparse.heuristic_layout import DEFAULT_WRAP, detect_layout, lines_with_offsets
from playparse.heuristic_patterns import label_key, looks_joint
from playparse.schema import CastEntry, CharacterRef, ChunkContext

_STOPWORDS = {
    "en": "the and of to is that you my not with",
    "de": "und der die das ist nicht ich sie mit ein",
    "fr": "et le la les est que je vous pas une",
    "es": "y el la los que es no se por una",
    "it": "e il la che non di un per una sono",
}


class HeadingMark(BaseModel):
    """An act or scene heading and where it stands in the text."""

    offset: int
    kind: str
    number: int | None = None
    title: str
    setting: str | None = None


class Outline(BaseModel):
    """What the pre-scan learnt about a whole play."""

    title: str | None = None
    subtitle: str | None = None
    author: str | None = None
    language: str | None = None
    front_matter_end: int | None = None
    cast: list[CastEntry] = Field(default_factory=list)
    characters: list[CharacterRef] = Field(default_factory=list)
    speaker_labels: list[str] = Field(default_factory=list)
    speech_indent: int = 0
    indented_speech_blocks: bool = False
    wrap_width: int = DEFAULT_WRAP
    spaced_speeches: bool = True
    headings: list[HeadingMark] = Field(default_factory=list)

    # The reader's state at every line start of the body; kept in memory for planning only.
    _line_starts: list[int] = PrivateAttr(default_factory=list)
    _states: list[ReaderState] = PrivateAttr(default_factory=list)
    _text: str = PrivateAttr(default="")

    def character_ids(self) -> dict[str, str]:
        """Label key -> character id, for every printed form and alias."""
        ids: dict[str, str] = {}
        for character in self.characters:
            for form in (character.name, *character.aliases):
                ids.setdefault(label_key(form), character.id)
        return ids

    def context_at(self, offset: int, index: int) -> ChunkContext:
        """The context of a chunk starting at `offset` (from a freshly scanned outline)."""
        if not self._line_starts and offset > (self.front_matter_end or 0):
            raise RuntimeError("context_at needs the outline returned by scan()")
        body = self.front_matter_end or 0
        state = ReaderState()
        front: int | None = None
        prefix: str | None = None
        if offset < body:
            front = body - offset
        elif self._line_starts:
            k = max(bisect.bisect_right(self._line_starts, offset) - 1, 0)
            state = self._states[k]
            if offset > self._line_starts[k]:
                # A chunk starting inside a line reads it from its start.
                prefix = self._text[self._line_starts[k] : offset]
        return ChunkContext(
            index=index,
            language=self.language,
            characters=self.characters,
            front_matter_end=front,
            speaker_labels=self.speaker_labels,
            speech_indent=self.speech_indent,
            indented_speech_blocks=self.indented_speech_blocks,
            wrap_width=self.wrap_width,
            spaced_speeches=self.spaced_speeches,
            line_prefix=prefix,
            **state.to_context(),  # type: ignore[arg-type]
        )


def guess_language(text: str) -> str | None:
    """The play's language from its script and commonest words (ISO 639-1), if clear."""
    sample = text[:20_000]
    letters = [c for c in sample if c.isalpha()]
    if not letters:
        return None
    cyrillic = sum(1 for c in letters if "CYRILLIC" in unicodedata.name(c, ""))
    if cyrillic > len(letters) / 2:
        return "ru"
    words = Counter(w.casefold() for w in re.findall(r"[^\W\d_]+", sample))
    scores = {lang: sum(words[w] for w in stop.split()) for lang, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] >= 20 else None


# Characters of a slug at most, leaving room for a "_NN" suffix within the 128 of the ids'
# column (a model may send a whole sentence as a speaker).
MAX_SLUG = 100


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = "_".join(re.findall(r"[a-z0-9]+", ascii_name.casefold()))
    slug = slug or "_".join(re.findall(r"\w+", name.casefold())) or "character"
    return slug[:MAX_SLUG].rstrip("_")


def _significant_words(name: str) -> set[str]:
    return {w for w in label_key(name).split() if len(w) > 2} - {
        "der",
        "die",
        "das",
        "the",
        "von",
        "und",
        "and",
        "les",
        "del",
        "della",
    }


def build_characters(labels: list[str], cast: list[CastEntry]) -> list[CharacterRef]:
    """Characters in order of first speech, linked to their cast-list entries where unique.

    A label links to the one cast entry whose name and description contain all its words
    ("DER PRINZ" to "Hettore Gonzaga, Prinz von Guastalla"); the entry's name becomes an alias.
    Cast entries nobody speaks as are listed after the speakers. A label that is another one
    with words added, and the only such label ("HÄNSCHEN" and "HÄNSCHEN RILOW"), names the
    same person unless the two link to different cast entries.
    """
    by_key: dict[str, list[str]] = {}
    for label in labels:
        forms = by_key.setdefault(label_key(label), [])
        if label not in forms:
            forms.append(label)
    links = {key: _cast_entry(key, cast) for key in by_key}
    by_key = _join_longer_labels(by_key, links)
    # Cast entry -> the character it is linked to (its index in `characters`).
    linked: dict[int, int] = {}
    characters: list[CharacterRef] = []
    used: set[str] = set()
    for key, forms in by_key.items():
        found = links[key]
        match = found.entry if found else None
        if found and match in linked:
            if not found.by_description:
                # Another label of the same person ("CLAUDIA" and "CLAUDIA GALOTTI").
                known = characters[linked[found.entry]]
                known.aliases = _dedupe([*known.aliases, *forms], known.name)
                continue
            # Someone the entry's description mentions ("Полина Андреевна, его жена" in a
            # cast paragraph that holds three people): a person of their own.
            match = None
        name = pretty_name(forms[0])
        aliases = list(forms)
        if match is not None:
            entry = cast[match]
            linked[match] = len(characters)
            aliases = [*forms, *entry.aliases]
            if label_key(entry.name) != key:
                aliases.append(entry.name)
        ident = _unique(_slug(name), used)
        characters.append(CharacterRef(id=ident, name=name, aliases=_dedupe(aliases, name)))
    for n, entry in enumerate(cast):
        if n in linked:
            continue
        ident = _unique(_slug(entry.name), used)
        characters.append(CharacterRef(id=ident, name=entry.name, aliases=list(entry.aliases)))
    return characters


def _join_longer_labels(
    by_key: dict[str, list[str]], links: dict[str, _Link | None]
) -> dict[str, list[str]]:
    """`by_key` with each label that has exactly one longer form ("moritz" and "moritz
    stiefel") holding the forms of both, under whichever of the two spoke first, unless the
    two link (`links`, by key) to different cast entries ("PRINZ" to "Prinz Carl", "PRINZ VON
    GUASTALLA" to "Hettore Gonzaga, Prinz von Guastalla")."""
    longer: dict[str, list[str]] = {key: [] for key in by_key}
    for key in (key for key in by_key if not looks_joint(key)):
        words = key.split()
        for n in range(1, len(words)):
            shorter, added = " ".join(words[:n]), " ".join(words[n:])
            # "MACBETH LENNOX" is two speakers whose comma went missing, not a longer name.
            if shorter in longer and added not in longer:
                longer[shorter].append(key)
    partner: dict[str, str] = {}
    for short, extended in longer.items():
        if len(extended) != 1 or extended[0] in partner:
            continue
        pair = (links[short], links[extended[0]])
        if len({link.entry for link in pair if link}) < 2:
            partner[short], partner[extended[0]] = extended[0], short
    joined: dict[str, list[str]] = {}
    for key, forms in by_key.items():
        if partner.get(key) in joined:
            joined[partner[key]] += forms
        else:
            joined[key] = list(forms)
    return joined


class _Link(NamedTuple):
    """The cast entry a label names, and whether only its description names it."""

    entry: int
    by_description: bool


def _cast_entry(key: str, cast: list[CastEntry]) -> _Link | None:
    """The one cast entry a label names: by the entries' names, else by names and descriptions.

    Names first, so that "EMILIA" is Emilia Galotti and not one of "Odoardo, Claudia Galotti:
    Eltern der Emilia"; descriptions next, so that "DER PRINZ" is "Hettore Gonzaga, Prinz von
    Guastalla". Failing both, a family name the cast list prints on other members is left out
    of the label, so that "ODOARDO GALOTTI" is "Odoardo" beside "Claudia Galotti".
    """
    words = _significant_words(key)
    if not words:
        return None
    for by_description, text in (
        (False, lambda entry: entry.name),
        (True, lambda entry: f"{entry.name} {entry.description or ''}"),
    ):
        matches = [n for n, entry in enumerate(cast) if words <= _significant_words(text(entry))]
        if len(matches) == 1:
            return _Link(matches[0], by_description)
        if matches:
            return None
    surnames = {label_key(entry.name).split()[-1] for entry in cast if " " in entry.name.strip()}
    given = words - surnames
    if not given or given == words:
        return None
    matches = [n for n, entry in enumerate(cast) if given <= _significant_words(entry.name)]
    return _Link(matches[0], False) if len(matches) == 1 else None


def _unique(ident: str, used: set[str]) -> str:
    candidate, n = ident, 2
    while candidate in used:
        candidate, n = f"{ident}_{n}", n + 1
    used.add(candidate)
    return candidate


def _dedupe(aliases: list[str], name: str) -> list[str]:
    result: list[str] = []
    for alias in aliases:
        if alias != name and alias not in result:
            result.append(alias)
    return result


def scan(text: str) -> Outline:
    """Pre-scan a whole play: front matter, layout, headings, characters and reader states."""
    front_end = find_front_matter_end(text)
    body_start = front_end or 0
    front = read_front_matter(text[:body_start]) if front_end is not None else None
    cast = front.cast if front else []
    body = text[body_start:]
    known = {label_key(entry.name) for entry in cast}
    layout = detect_layout(body, known=known)

    reader = Reader(layout)
    states: list[ReaderState] = []
    reader.read(body, base=body_start, snapshots=states)
    starts = [start + body_start for start, _ in lines_with_offsets(body)]

    labels: list[str] = []
    headings: list[HeadingMark] = []
    for item in reader.items:
        if item.type in ("act", "scene"):
            headings.append(
                HeadingMark(
                    offset=item.offset or 0,
                    kind=item.type,
                    number=item.number,
                    title=item.text,
                    setting=item.setting,
                )
            )
        elif item.type == "line":
            labels.extend(item.speakers)

    outline = Outline(
        title=front.title if front else None,
        subtitle=front.subtitle if front else None,
        author=front.author if front else None,
        language=guess_language(body),
        front_matter_end=front_end,
        cast=cast,
        characters=build_characters(labels, cast),
        speaker_labels=layout.labels,
        speech_indent=layout.speech_indent,
        indented_speech_blocks=layout.indented_speech_blocks,
        wrap_width=layout.wrap_width,
        spaced_speeches=layout.spaced_speeches,
        headings=headings,
    )
    outline._line_starts = starts
    outline._states = states
    outline._text = text
    return outline
