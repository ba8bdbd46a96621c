"""The line reader's state and layout from the ChunkContext a chunk is parsed with, and how a chunk
joins the one before it."""

from __future__ import annotations

from dataclasses import dataclass, field

from playparse.heuristic_layout import Layout, detect_layout
from playparse.heuristic_patterns import label_key
from playparse.schema import ChunkContext


@dataclass
class ReaderState:
    """Where the reader stands at a line start; everything a chunk needs to begin there."""

    act: int | None = None
    act_title: str | None = None
    scene: int | None = None
    scene_title: str | None = None
    # Labels of the speech in progress; empty outside speeches.
    speakers: list[str] = field(default_factory=list)
    # Whether the speech in progress has shown any spoken text yet.
    speech_text: bool = False
    # Whether the previous line was blank (the line starts a paragraph).
    paragraph_break: bool = True
    # The closing character of a bracketed direction still open, if any.
    bracket: str | None = None
    # The last non-blank line read, and whether it was read as a stage direction.
    previous: str | None = None
    previous_direction: bool = False
    # The indentation of the direction paragraph that opened a later paragraph of the speech,
    # while the next line may still belong to it.
    direction_indent: int | None = None
    # Whether an item (speech or direction) with text is open, for the next line to go on.
    item_open: bool = False

    def to_context(self) -> dict[str, object]:
        return {
            "act": self.act,
            "act_title": self.act_title,
            "scene": self.scene,
            "scene_title": self.scene_title,
            "open_speakers": list(self.speakers),
            "after_label": bool(self.speakers) and not self.speech_text,
            "paragraph_break": self.paragraph_break,
            "open_bracket": self.bracket,
            "previous_line": self.previous,
            "previous_direction": self.previous_direction,
            "direction_indent": self.direction_indent,
            "item_open": self.item_open,
        }

    @classmethod
    def from_context(cls, context: ChunkContext) -> ReaderState:
        return cls(
            act=context.act,
            act_title=context.act_title,
            scene=context.scene,
            scene_title=context.scene_title,
            speakers=list(context.open_speakers),
            speech_text=bool(context.open_speakers) and not context.after_label,
            paragraph_break=context.paragraph_break,
            bracket=context.open_bracket,
            previous=context.previous_line,
            previous_direction=context.previous_direction,
            direction_indent=context.direction_indent,
            item_open=bool(context.item_open),
        )


def layout_from_context(text: str, context: ChunkContext) -> Layout:
    """The pre-scan's layout when the context carries it, else one judged from the chunk."""
    if context.indented_speech_blocks is None:
        known = {label_key(c.name) for c in context.characters}
        return detect_layout(text, known=known)
    return Layout(
        speech_indent=context.speech_indent or 0,
        indented_speech_blocks=context.indented_speech_blocks,
        wrap_width=context.wrap_width or 72,
        labels=list(context.speaker_labels),
        spaced_speeches=context.spaced_speeches is not False,
    )


def item_open(context: ChunkContext) -> bool:
    """Whether an item is open where the chunk starts (guessed for contexts without it)."""
    if context.item_open is not None:
        return context.item_open
    # Mid-paragraph, inside a speech that has spoken or a direction.
    return context.open_bracket is not None or (
        not context.paragraph_break and (not context.after_label or not context.open_speakers)
    )


def line_joint(text: str) -> str:
    """What joins a chunk that starts inside a line to the chunk before: the spaces there."""
    rest = text.lstrip(" \t")
    if rest[:1] in ("\n", ""):
        # Nothing more on the line: the item goes on at the next line.
        return "\n"
    return text[: len(text) - len(rest)]
