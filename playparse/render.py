"""A playbook for people: Markdown, a plain script layout, and one character's part."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from playparse.errors import PlayparseError
from playparse.schema import Act, Character, Item, LineItem, Playbook, Scene

SCRIPT_WIDTH = 72
SPEECH_INDENT = " " * 4
DIRECTION_INDENT = " " * 8
# How much of the line before a character's speech a cue keeps: its last words.
CUE_CHARS = 100


class UnknownCharacter(PlayparseError):
    """The play has no character with the requested id."""

    type = "UnknownCharacter"

    def __init__(self, character_id: str) -> None:
        super().__init__(f"the play has no character with id {character_id!r}")
        self.character_id = character_id


def act_label(act: Act) -> str | None:
    """The act's heading as printed, else "Act N"; None for a play without act headings."""
    if act.title:
        return act.title
    return f"Act {act.number}" if act.number is not None else None


def scene_label(scene: Scene) -> str | None:
    """The scene's heading as printed, else "Scene N"; None when the scene has no heading."""
    if scene.title:
        return scene.title
    return f"Scene {scene.number}" if scene.number is not None else None


def speaker_names(playbook: Playbook, item: LineItem) -> str:
    """Who speaks a line, by name ("A, B" for a line spoken together)."""
    names = {character.id: character.name for character in playbook.characters}
    return ", ".join(names.get(cid, cid) for cid in item.character_ids) or "?"


def cue_text(text: str, limit: int = CUE_CHARS) -> str:
    """The last words of a line, as an actor's cue."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    tail = flat[-limit:]
    cut = tail.find(" ")
    return "…" + (tail[cut + 1 :] if 0 <= cut < limit // 2 else tail)


def part_lines(scene: Scene, character_id: str, *, cues: bool = False) -> list[LineItem]:
    """One character's lines in a scene, each after its cue (the line before it) if asked.

    A cue is a line by someone else, shortened to its last words; directions are left out.
    """
    items: list[LineItem] = []
    cue: LineItem | None = None
    for item in scene.items:
        if not isinstance(item, LineItem):
            continue
        if character_id not in item.character_ids:
            cue = item
            continue
        if cues and cue is not None:
            items.append(cue.model_copy(update={"text": cue_text(cue.text)}))
        items.append(item)
        cue = None
    return items


def _character(playbook: Playbook, character_id: str) -> Character:
    character = next((c for c in playbook.characters if c.id == character_id), None)
    if character is None:
        raise UnknownCharacter(character_id)
    return character


def part(playbook: Playbook, character_id: str, *, cues: bool = False) -> Playbook:
    """The play cut down to one character's lines (see `part_lines`), as a playbook.

    Scenes and acts in which the character does not speak are left out.

    Raises:
        UnknownCharacter: no character of the play has this id.
    """
    character = _character(playbook, character_id)
    acts: list[Act] = []
    for act in playbook.acts:
        scenes: list[Scene] = []
        for scene in act.scenes:
            items = part_lines(scene, character_id, cues=cues)
            if items:
                scenes.append(scene.model_copy(update={"items": items}))
        if scenes:
            acts.append(act.model_copy(update={"scenes": scenes}))
    return playbook.model_copy(update={"subtitle": part_subtitle(character, cues), "acts": acts})


def part_subtitle(character: Character, cues: bool) -> str:
    """What a part is, in place of the play's subtitle: "Odoardo: lines with cues"."""
    return f"{character.name}: lines with cues" if cues else f"{character.name}: lines"


@dataclass(frozen=True)
class SceneView:
    anchor: str
    label: str | None
    setting: str | None
    items: Sequence[Item]


@dataclass(frozen=True)
class ActView:
    anchor: str
    label: str | None
    scenes: list[SceneView]


def contents(
    playbook: Playbook, character_id: str | None = None, *, cues: bool = False
) -> list[ActView]:
    """The acts and scenes to show, each with an anchor that names its place in the whole play
    (`act-2`, `act-2-scene-3`), so links hold whichever character is shown. With a character,
    only the scenes where it speaks, holding its lines (see `part_lines`).

    Raises:
        UnknownCharacter: no character of the play has this id.
    """
    if character_id is not None:
        _character(playbook, character_id)
    acts: list[ActView] = []
    for a, act in enumerate(playbook.acts, start=1):
        scenes = []
        for s, scene in enumerate(act.scenes, start=1):
            items: Sequence[Item] = (
                scene.items if character_id is None else part_lines(scene, character_id, cues=cues)
            )
            if items or character_id is None:
                scenes.append(
                    SceneView(f"act-{a}-scene-{s}", scene_label(scene), scene.setting, items)
                )
        if scenes or character_id is None:
            acts.append(ActView(f"act-{a}", act_label(act), scenes))
    return acts


# --- Markdown ----------------------------------------------------------------------------------

_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_MD_LIST_NUMBER = re.compile(r"^(\d+)([.)])")
_MD_BLOCK_START = re.compile(r"^([#>+\-=])")


def _md(text: str) -> str:
    """Text as literal Markdown: inline markup escaped, line breaks kept as hard breaks."""
    lines = []
    for line in text.split("\n"):
        line = _MD_INLINE.sub(r"\\\1", line.strip())
        line = _MD_LIST_NUMBER.sub(r"\1\\\2", line)
        lines.append(_MD_BLOCK_START.sub(r"\\\1", line))
    return "\\\n".join(line for line in lines if line)


def to_markdown(playbook: Playbook) -> str:
    """The play as Markdown: title, cast list, act and scene headings, speeches, directions."""
    out = [f"# {_md(playbook.title)}", ""]
    if playbook.subtitle:
        out += [f"*{_md(playbook.subtitle)}*", ""]
    if playbook.author:
        out += [_md(playbook.author), ""]
    if playbook.characters:
        out += ["## Characters", ""]
        for character in playbook.characters:
            entry = f"- **{_md(character.name)}**"
            if character.description:
                entry += f": {_md(character.description)}"
            out.append(entry)
        out.append("")
    for act in playbook.acts:
        label = act_label(act)
        if label:
            out += [f"## {_md(label)}", ""]
        for scene in act.scenes:
            heading = scene_label(scene)
            if heading:
                out += [f"### {_md(heading)}", ""]
            if scene.setting:
                out += [f"*{_md(scene.setting)}*", ""]
            for item in scene.items:
                if isinstance(item, LineItem):
                    out.append(f"**{_md(speaker_names(playbook, item))}:** {_md(item.text)}")
                else:
                    out.append(f"*{_md(item.text)}*")
                out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# --- plain script layout -----------------------------------------------------------------------


def _wrapped(text: str, indent: str, width: int) -> list[str]:
    lines: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            lines += textwrap.wrap(
                " ".join(line.split()),
                width=width,
                initial_indent=indent,
                subsequent_indent=indent,
                break_on_hyphens=False,
            )
    return lines


def _parenthesised(text: str) -> str:
    text = text.strip()
    return text if text.startswith(("(", "[")) else f"({text})"


def to_script(playbook: Playbook, width: int = SCRIPT_WIDTH) -> str:
    """The play as a plain-text script: speaker names in capitals above their speech,
    speeches indented, stage directions indented further and in parentheses."""
    out = [playbook.title.upper()]
    if playbook.subtitle:
        out.append(playbook.subtitle)
    if playbook.author:
        out.append(playbook.author)
    out.append("")
    if playbook.characters:
        out += ["CHARACTERS", ""]
        for character in playbook.characters:
            entry = character.name.upper()
            if character.description:
                entry += f", {character.description}"
            out += _wrapped(entry, "  ", width)
        out.append("")
    for act in playbook.acts:
        label = act_label(act)
        if label:
            out += ["", label.upper(), ""]
        for scene in act.scenes:
            heading = scene_label(scene)
            if heading:
                out += [heading.upper(), ""]
            if scene.setting:
                out += _wrapped(scene.setting, "", width) + [""]
            for item in scene.items:
                if isinstance(item, LineItem):
                    out.append(speaker_names(playbook, item).upper())
                    out += _wrapped(item.text, SPEECH_INDENT, width)
                else:
                    out += _wrapped(_parenthesised(item.text), DIRECTION_INDENT, width)
                out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
