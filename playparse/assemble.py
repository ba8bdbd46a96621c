"""Assemble the ordered chunk parses of a play into one validated playbook/v1 document."""

from __future__ import annotations

import re
from collections.abc import Sequence

from playparse import chunking, front_matter, heuristic, outline
from playparse.errors import ParseError
from playparse.heuristic_layout import WRAP_SLACK
from playparse.heuristic_patterns import label_key, split_joint
from playparse.outline import Outline
from playparse.schema import (
    Act,
    CastEntry,
    Character,
    CharacterRef,
    ChunkParse,
    DirectionItem,
    LineItem,
    ParsedItem,
    Playbook,
    Scene,
)

UNTITLED = "Untitled play"
# Act and scene numbers beyond this are not numbers a play prints (and would overflow the
# database's integer columns); the heuristic parser reads none past it either.
MAX_NUMBER = 9999


def reflow(text: str, wrap_width: int) -> str:
    """Join lines the typesetter wrapped; keep the line breaks of verse."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    parts = [lines[0]]
    for before, line in zip(lines, lines[1:], strict=False):
        wrapped = len(before) >= wrap_width - WRAP_SLACK
        parts.append((" " if wrapped else "\n") + line)
    return re.sub(r"[ \t]+", " ", "".join(parts))


class _Characters:
    """Speaker labels to character ids: the outline's first, new ones as they appear."""

    def __init__(self, known: Sequence[CharacterRef], cast: Sequence[CastEntry]) -> None:
        self.characters: list[CharacterRef] = list(known)
        self.descriptions = {entry.name: entry.description for entry in cast}
        self._ids: dict[str, str] = {}
        self._used = {character.id for character in self.characters}
        for character in self.characters:
            for form in (character.name, *character.aliases):
                self._ids.setdefault(label_key(form), character.id)

    def id_for(self, label: str) -> str | None:
        """The id of the character a label names; None for a label with no letters at all."""
        if label in self._used:
            # A model may answer with the character ids the context gave it.
            return label
        key = label_key(label)
        if not key:
            return None
        if key not in self._ids:
            name = front_matter.pretty_name(label)
            ident = outline._unique(outline._slug(name), self._used)
            self.characters.append(CharacterRef(id=ident, name=name, aliases=[label]))
            self._ids[key] = ident
        return self._ids[key]

    def ids_for(self, label: str) -> list[str]:
        """The ids of the characters a label names: several for a joint label whose parts are
        all known characters ("HAMLET AND HORATIO", as a model may send it), one otherwise,
        none for a label with no letters at all."""
        if label not in self._used and label_key(label) not in self._ids:
            parts = split_joint(label, self._ids.keys())
            if len(parts) > 1:
                return [i for part in parts if (i := self.id_for(part)) is not None]
        found = self.id_for(label)
        return [] if found is None else [found]

    def export(self, speaking: set[str]) -> list[Character]:
        result = []
        for ref in self.characters:
            description = self.descriptions.get(ref.name)
            for alias in ref.aliases:
                description = description or self.descriptions.get(alias)
            result.append(
                Character(id=ref.id, name=ref.name, aliases=ref.aliases, description=description)
            )
        # Speakers first, in order of appearance; then the rest of the cast list.
        return [c for c in result if c.id in speaking] + [c for c in result if c.id not in speaking]


def _first(values: Sequence[str | None]) -> str | None:
    """The first value with something in it, stripped."""
    return next((value.strip() for value in values if value and value.strip()), None)


def _number(value: int | None) -> int | None:
    return value if value is not None and 0 <= value <= MAX_NUMBER else None


def _same_speech(before: ParsedItem, after: ParsedItem) -> bool:
    """Whether `after` carries on `before`: the same kind, the same speakers (however spelt),
    or a line that leaves its speakers out as running on."""
    if before.type != after.type:
        return False
    if after.type == "line" and not after.speakers:
        return True
    return [label_key(s) for s in before.speakers] == [label_key(s) for s in after.speakers]


def assemble(parses: Sequence[ChunkParse], play_outline: Outline | None = None) -> Playbook:
    """Merge chunk parses, in chunk order, into one playbook.

    Acts and scenes come from the heading items; text before any heading goes into an act and
    a scene without a number. Speaker labels become stable character ids through the outline.

    Args:
        parses: one parse per chunk, in order.
        play_outline: the pre-scan of the whole play, when there was one.

    Raises:
        ParseError: when the text holds no speech or direction at all.
    """
    cast = [entry for parse in parses for entry in parse.cast]
    if play_outline is not None:
        characters = _Characters(play_outline.characters, play_outline.cast or cast)
        wrap_width = play_outline.wrap_width
    else:
        labels = [
            s for parse in parses for item in parse.items for s in item.speakers if label_key(s)
        ]
        # A joint label ("HAMLET AND HORATIO") is no character of its own when its parts speak.
        keys = {label_key(s) for s in labels} | {label_key(entry.name) for entry in cast}
        labels = [part for s in labels for part in split_joint(s, keys)]
        characters = _Characters(outline.build_characters(labels, cast), cast)
        wrap_width = 72

    acts: list[Act] = []
    last_item: ParsedItem | None = None
    merged: list[tuple[ParsedItem, Scene]] = []

    def current_scene() -> Scene:
        if not acts:
            acts.append(Act())
        if not acts[-1].scenes:
            acts[-1].scenes.append(Scene())
        return acts[-1].scenes[-1]

    for parse in parses:
        first = True
        for item in parse.items:
            number = _number(item.number)
            if item.type == "act":
                # A model may repeat at a chunk's top the heading it was shown as context: the
                # act or scene goes on, and so may the speech cut at the chunk's start.
                if acts and number is not None and acts[-1].number == number:
                    continue
                acts.append(Act(number=number, title=item.text or None))
                last_item, first = None, False
                continue
            if item.type == "scene":
                if not acts:
                    acts.append(Act())
                scenes = acts[-1].scenes
                if scenes and number is not None and scenes[-1].number == number:
                    continue
                scenes.append(Scene(number=number, title=item.text or None, setting=item.setting))
                last_item, first = None, False
                continue
            scene = current_scene()
            opening, first = first, False
            if (
                opening
                and parse.continues_previous
                and last_item is not None
                and merged
                and merged[-1][1] is scene
                and _same_speech(last_item, item)
            ):
                joint = "\n" if parse.line_joint is None else parse.line_joint
                last_item.text = f"{last_item.text}{joint}{item.text}"
                continue
            copy = item.model_copy()
            merged.append((copy, scene))
            last_item = copy

    speaking: set[str] = set()
    rendered: dict[int, list[LineItem | DirectionItem]] = {}
    for item, scene in merged:
        text = reflow(item.text.strip(), wrap_width)
        if not text:
            continue
        bucket = rendered.setdefault(id(scene), [])
        if item.type == "line":
            ids = list(dict.fromkeys(i for s in item.speakers for i in characters.ids_for(s)))
            speaking.update(ids)
            bucket.append(LineItem(character_ids=ids, text=text))
        else:
            bucket.append(DirectionItem(text=text))
    for act in acts:
        for scene in act.scenes:
            scene.items = list(rendered.get(id(scene), []))
    if not rendered:
        raise ParseError("no speeches or stage directions were found in the text")

    # The title page is in the first chunk: its answer, then the pre-scan of the whole play,
    # then any later chunk (a later "title" is more often a heading such as THE END).
    def front(field: str) -> str | None:
        first = _first([getattr(parses[0], field)]) if parses else None
        scanned = _first([getattr(play_outline, field)]) if play_outline else None
        return first or scanned or _first([getattr(parse, field) for parse in parses[1:]])

    return Playbook(
        title=front("title") or UNTITLED,
        subtitle=front("subtitle"),
        author=front("author"),
        language=(play_outline.language if play_outline else None)
        or _first([parse.language for parse in parses]),
        characters=characters.export(speaking),
        acts=acts,
    )


def parse_text(text: str, chunk_size: int = chunking.DEFAULT_TARGET) -> Playbook:
    """The whole pipeline in one process: pre-scan, chunk, parse each chunk, assemble.

    A parse job does the same steps as separate durable activities; this is the reference the
    job's result is checked against, and the quickest way to parse a text in a script.
    """
    play_outline = outline.scan(text)
    chunks = chunking.plan_chunks(
        text, chunk_size, keep_together=play_outline.front_matter_end or 0
    )
    parses = [
        heuristic.parse_chunk(
            text[chunk.start : chunk.end], play_outline.context_at(chunk.start, chunk.index)
        )
        for chunk in chunks
    ]
    return assemble(parses, play_outline)
