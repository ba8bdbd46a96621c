"""Playbook v1, the output contract, and the chunk-level types every parser speaks.

A provider (the offline heuristic parser or an LLM) reads one chunk of a play with the context
of what came before it and returns a `ChunkParse`; `playparse.assemble` turns the ordered chunk
parses of a document into one validated `Playbook`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

PLAYBOOK_SCHEMA = "playbook/v1"


class Character(BaseModel):
    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    description: str | None = None


class LineItem(BaseModel):
    type: Literal["line"] = "line"
    character_ids: list[str]
    text: str


class DirectionItem(BaseModel):
    type: Literal["direction"] = "direction"
    text: str


Item = Annotated[LineItem | DirectionItem, Field(discriminator="type")]


class Scene(BaseModel):
    number: int | None = None
    title: str | None = None
    setting: str | None = None
    items: list[Item] = Field(default_factory=list)


class Act(BaseModel):
    number: int | None = None
    title: str | None = None
    scenes: list[Scene] = Field(default_factory=list)


class Playbook(BaseModel):
    """A parsed play in the playbook/v1 format (the JSON export)."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: Literal["playbook/v1"] = Field(default="playbook/v1", alias="schema")
    title: str
    subtitle: str | None = None
    author: str | None = None
    language: str | None = None
    characters: list[Character] = Field(default_factory=list)
    acts: list[Act] = Field(default_factory=list)

    def export(self) -> dict[str, object]:
        """The JSON-ready playbook/v1 document."""
        return self.model_dump(mode="json", by_alias=True)


# --- chunk level -------------------------------------------------------------------------------


class CharacterRef(BaseModel):
    """A character known when a chunk is parsed; ids stay stable across chunks."""

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)


class ChunkContext(BaseModel):
    """What a parser knows about the play where its chunk begins."""

    index: int = 0
    language: str | None = None
    characters: list[CharacterRef] = Field(default_factory=list)
    act: int | None = None
    act_title: str | None = None
    scene: int | None = None
    scene_title: str | None = None
    # Speaker labels of a speech that runs across the start of the chunk, if any.
    open_speakers: list[str] = Field(default_factory=list)
    # True when the chunk starts right after those speakers' label, before their speech.
    after_label: bool = False
    # True when the chunk starts a new paragraph (the line before it is blank).
    paragraph_break: bool = True
    # The closing bracket of a stage direction that runs across the start of the chunk.
    open_bracket: str | None = None
    # The last non-blank line before the chunk (None at the start of the body): whether the
    # chunk's first line goes on with a sentence wrapped at the measure, or follows one ended.
    previous_line: str | None = None
    # True when that line was read as a stage direction: a short one ("Curtain", "Exeunt")
    # ends its paragraph even without a final stop, so a heading may follow it directly.
    previous_direction: bool = False
    # The indentation of a stage direction set deeper than the speech that runs across the
    # start of the chunk, if any.
    direction_indent: int | None = None
    # Whether a speech or direction with text is still open where the chunk starts, so that
    # the chunk's first item may carry it on (None: unknown, judged from the fields above).
    item_open: bool | None = None
    # Offset in the chunk where the front matter (title page, cast list) ends; None when the
    # chunk holds none. The front matter fills ChunkParse.title/author/cast, never items.
    front_matter_end: int | None = None
    # Whole-play layout seen by the pre-scan, so every chunk reads the page the same way.
    # None means unknown: a parser then judges from the chunk alone.
    speaker_labels: list[str] = Field(default_factory=list)
    speech_indent: int | None = None
    # Moby-style e-texts: labels alone at the margin, speech indented below them, and every
    # later paragraph of a speech opening with a one-line stage direction.
    indented_speech_blocks: bool | None = None
    # Printed line width; a shorter line ends a verse line rather than wrapping prose.
    wrap_width: int | None = None
    # Whether blank lines set speeches apart (None: unknown, taken as yes).
    spaced_speeches: bool | None = None
    # When the chunk starts inside a line (one too long to keep whole): that line's text
    # before the chunk. The reader's state above then describes the start of that line, and
    # a parser reads the line whole, keeping only what lies in the chunk.
    line_prefix: str | None = None


class CastEntry(BaseModel):
    """One entry of a cast list (Dramatis Personae) found in the front matter."""

    name: str
    description: str | None = None
    aliases: list[str] = Field(default_factory=list)


class ParsedItem(BaseModel):
    """One element of a chunk in reading order.

    `act` and `scene` mark a heading (text is the heading's title, number when printed);
    `line` is spoken text with the speaker labels as printed; `direction` is a stage direction.
    """

    type: Literal["act", "scene", "line", "direction"]
    text: str = ""
    speakers: list[str] = Field(default_factory=list)
    number: int | None = None
    setting: str | None = None
    # Where the item starts in the chunk's text, when the parser knows.
    offset: int | None = None


class ChunkParse(BaseModel):
    """A provider's result for one chunk."""

    title: str | None = None
    subtitle: str | None = None
    author: str | None = None
    language: str | None = None
    cast: list[CastEntry] = Field(default_factory=list)
    items: list[ParsedItem] = Field(default_factory=list)
    # True when the first item carries on the last item of the previous chunk (a speech or a
    # direction cut by the chunk boundary), so the two are one item of the play.
    continues_previous: bool = False
    # How the two join when the chunk starts inside a line: the spaces at the cut ("" inside
    # a word). None joins them with a line break, as when the chunk starts at a line start.
    line_joint: str | None = None
