"""The offline rule-based parser: reads a chunk of a printed play line by line.

The reader is a small state machine over lines. The same reader runs over the whole play in the
outline pre-scan (playparse.outline), which records its state at every line start; a chunk parsed
on its own starts from the state recorded where it begins, so chunks parsed independently yield
what one pass over the whole play would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from playparse.front_matter import read_front_matter
from playparse.heuristic_layout import (
    Layout,
    detect_layout,
    indent_of,
    next_nonblank,
    wrapped_mid_sentence,
)
from playparse.heuristic_patterns import (
    LABEL_ALONE,
    LABEL_INLINE,
    clean_label,
    ends_sentence,
    is_capitals,
    label_key,
    match_heading,
    split_joint,
)
from playparse.schema import ChunkContext, ChunkParse, ParsedItem

_CLOSERS = {"[": "]", "(": ")", "_": "_", "{": "}"}
# Square brackets and underscores never occur in speech, so they mark a direction anywhere in a
# line; parentheses only do at the start of a line, since people speak in parentheses too.
_INLINE_DIRECTION = re.compile(r"\[[^\]]*\]|(?<!\w)_[^_]+_(?!\w)")
_ENTRANCE_EXIT = re.compile(
    r"^(?:enter|exit|exeunt|re-enter|manet|manent|flourish|alarum|sennet|tucket)\b", re.IGNORECASE
)


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
    # The last non-blank line read.
    previous: str | None = None
    # The indentation of the direction paragraph that opened a later paragraph of the speech,
    # while the next line may still belong to it.
    direction_indent: int | None = None

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
            "direction_indent": self.direction_indent,
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
            direction_indent=context.direction_indent,
        )


@dataclass
class _Open:
    """The item being built: its kind, speakers, printed lines and offset."""

    type: str
    speakers: list[str]
    offset: int
    lines: list[str] = field(default_factory=list)


class Reader:
    """Turns the lines of a play's body into items, given its layout.

    Item text keeps the printed line breaks; playparse.assemble reflows prose.
    """

    def __init__(self, layout: Layout, state: ReaderState | None = None) -> None:
        self.layout = layout
        self.known = layout.known
        self.forms = {clean_label(label) for label in layout.labels}
        self.state = state or ReaderState()
        self.items: list[ParsedItem] = []
        self._open: _Open | None = None
        # Whether a speaker label came before any text, so nothing carries on from before.
        self.opened_with_label = False

    # --- feeding ---------------------------------------------------------------------------

    def read(self, text: str, base: int = 0, snapshots: list[ReaderState] | None = None) -> None:
        """Read `text`, whose first character is at offset `base` of the chunk.

        With `snapshots`, the state at the start of every line is appended to it.
        """
        lines = text.split("\n")
        ahead = next_nonblank(lines)
        offset = base
        for i, line in enumerate(lines):
            if snapshots is not None:
                snapshots.append(replace(self.state, speakers=list(self.state.speakers)))
            nxt = ahead[i]
            following = lines[nxt] if nxt is not None else None
            self._line(line, offset, following, nxt == i + 1)
            if line.strip():
                self.state.previous = line
            offset += len(line) + 1
        self._flush()

    def _line(
        self,
        line: str,
        offset: int,
        following: str | None,
        next_is_adjacent: bool,
    ) -> None:
        state = self.state
        stripped = line.strip()
        deep, state.direction_indent = state.direction_indent, None
        if not stripped:
            if state.bracket is not None:
                # An unclosed bracket ends with its paragraph rather than swallowing the play.
                state.bracket = None
            self._flush()
            state.paragraph_break = True
            return
        at = offset + len(line) - len(line.lstrip())
        if state.bracket is not None:
            self._continue_bracket(stripped, at)
        elif not (
            self._heading(stripped, following, next_is_adjacent, at) or self._label(line, at)
        ):
            self._text(line, stripped, at, deep)
        state.paragraph_break = False

    # --- line kinds ------------------------------------------------------------------------

    def _heading(
        self,
        stripped: str,
        following: str | None,
        next_is_adjacent: bool,
        at: int,
    ) -> bool:
        heading = match_heading(stripped)
        if heading is None:
            return False
        state = self.state
        previous = state.previous
        set_off_below = (
            following is None
            or not next_is_adjacent
            or match_heading(following.strip()) is not None
        )
        # A heading with text after its number could be a line of speech ("Act one more
        # time"); one that is only keyword and number stands alone even without a blank after.
        after_ok = heading.setting is None or set_off_below
        # Without a blank line before it, a heading follows another heading, or it is only
        # keyword and number after a line that ends its sentence, with a blank line, a
        # heading, a direction or a speaker label after it.
        before_ok = (
            state.paragraph_break
            or (previous is not None and match_heading(previous.strip()) is not None)
            or (
                heading.setting is None
                and ends_sentence(previous)
                and (set_off_below or self._opens_scene(following or ""))
            )
        )
        if not (before_ok and after_ok):
            return False
        self._flush()
        if heading.kind == "act":
            state.act, state.act_title = heading.number, heading.title
            state.scene = state.scene_title = None
        else:
            state.scene, state.scene_title = heading.number, heading.title
        state.speakers, state.speech_text = [], False
        # "ACT I. SCENE I. Elsinore." opens the act and its first scene at once.
        inner = None
        if heading.kind == "act" and heading.setting:
            inner = match_heading(heading.setting)
        title = heading.title
        if inner is not None and inner.kind == "scene":
            title = heading.title[: len(heading.title) - len(heading.setting or "")].strip()
            title = title.rstrip(".:,;–—- ")
        self.items.append(
            ParsedItem(
                type=heading.kind,
                text=title,
                number=heading.number,
                setting=None if inner is not None else heading.setting,
                offset=at,
            )
        )
        if inner is not None and inner.kind == "scene":
            state.scene, state.scene_title = inner.number, inner.title
            self.items.append(
                ParsedItem(
                    type="scene",
                    text=inner.title,
                    number=inner.number,
                    setting=inner.setting,
                    offset=at + len(heading.title) - len(inner.title),
                )
            )
        return True

    def _opens_scene(self, line: str) -> bool:
        """Whether a line can follow a heading: a direction or a speaker label."""
        if line.lstrip()[:1] in ("(", "[") or indent_of(line) >= self.layout.speech_indent + 4:
            return True
        found = LABEL_ALONE.match(line) or LABEL_INLINE.match(line)
        return found is not None and self._is_label(found["name"], indent_of(line))

    def _is_label(self, name: str, indent: int) -> bool:
        # Labels stand at the margin, left of the speech they introduce.
        if indent > max(2, self.layout.speech_indent - 1):
            return False
        if clean_label(name) in self.forms:
            return True
        if is_capitals(name):
            if label_key(name) in self.known:
                return True
            return len(split_joint(name, self.known)) > 1
        return False

    def _label(self, line: str, at: int) -> bool:
        indent = indent_of(line)
        alone = LABEL_ALONE.match(line)
        if alone is not None and self._is_label(alone["name"], indent):
            self._start_speech(alone["name"], at)
            if alone["aside"]:
                self._direction_segment(alone["aside"].strip(), at)
            return True
        inline = LABEL_INLINE.match(line)
        if inline is not None and self._is_label(inline["name"], indent):
            if not (self.state.paragraph_break or is_capitals(inline["name"])):
                # Within a paragraph a name in mixed case needs the colon of a label
                # ("Anna: Hallo.") and a line of its own, not the rest of a wrapped sentence.
                accepted_form = clean_label(inline["name"]) in self.forms and inline["punct"] == ":"
                wrapped = wrapped_mid_sentence(self.state.previous, self.layout.wrap_width)
                if not accepted_form or wrapped:
                    return False
            self._start_speech(inline["name"], at)
            if inline["aside"]:
                self._direction_segment(inline["aside"].strip(), at)
            rest = inline["rest"]
            self._speech_text(rest, at + line.index(rest) - (len(line) - len(line.lstrip())))
            return True
        return False

    def _start_speech(self, name: str, at: int) -> None:
        if not self.items and self._open is None:
            self.opened_with_label = True
        self._flush()
        speakers = [clean_label(part) for part in split_joint(name, self.known)]
        self.state.speakers, self.state.speech_text = speakers, False

    def _text(self, line: str, stripped: str, at: int, deep: int | None) -> None:
        """A line that is neither heading nor label (`deep`: see `_direction_runs_on`)."""
        state = self.state
        if stripped[0] in _CLOSERS:
            self._speech_text(stripped, at)
            return
        if not state.speakers:
            self._direction_line(stripped, at)
            return
        if self._direction_runs_on(line, deep):
            state.direction_indent = deep
            self._add("direction", [], stripped, at)
            return
        if state.paragraph_break and state.speech_text and self._opens_with_direction(line):
            # The first line of a later paragraph of the speech is a direction.
            self._flush()
            state.direction_indent = indent_of(line)
            self._add("direction", [], stripped.strip("[]()_").strip(), at)
            return
        if state.paragraph_break and _ENTRANCE_EXIT.match(stripped):
            self._flush()
            self._direction_line(stripped, at)
            return
        self._speech_text(stripped, at)

    def _direction_runs_on(self, line: str, deep: int | None) -> bool:
        """Whether `line` goes on with the direction paragraph begun `deep` deep above it."""
        if deep is None or indent_of(line) < deep:
            return False
        if not self.layout.indented_speech_blocks:
            # Set deeper than the speech, a direction lasts as long as its indentation.
            return True
        # A Moby direction takes one line unless the typesetter wrapped it: then it broke off
        # at a comma, or goes on in lower case (verse lines and sentences open in capitals).
        previous = (self.state.previous or "").rstrip()
        return previous[-1:] in (",", ";") or line.lstrip()[:1].islower()

    def _opens_with_direction(self, line: str) -> bool:
        if self.layout.indented_speech_blocks:
            return True
        # A paragraph set deeper than the speech is a direction in any layout.
        return indent_of(line) >= self.layout.speech_indent + 4

    # --- text within a line ----------------------------------------------------------------

    def _speech_text(self, text: str, at: int) -> None:
        """Spoken text of the current speech, with any bracketed directions split out."""
        pos = 0
        if text[0] in _CLOSERS:
            closer = _CLOSERS[text[0]]
            end = text.find(closer, 1)
            if end < 0:
                self._flush()
                self.state.bracket = closer
                self._add("direction", [], text[1:], at)
                return
            self._direction_segment(text[1:end], at)
            pos = end + 1
            while pos < len(text) and text[pos] in ".,:; ":
                pos += 1
        for m in _INLINE_DIRECTION.finditer(text, pos):
            self._spoken(text[pos : m.start()], at + pos)
            self._direction_segment(m.group()[1:-1], at + m.start())
            pos = m.end()
        self._spoken(text[pos:], at + pos)

    def _spoken(self, text: str, at: int) -> None:
        text = text.strip()
        if not text:
            return
        if self.state.speakers:
            self.state.speech_text = True
            self._add("line", self.state.speakers, text, at)
        else:
            self._add("direction", [], text, at)

    def _continue_bracket(self, stripped: str, at: int) -> None:
        closer = self.state.bracket
        assert closer is not None
        end = stripped.find(closer)
        if end < 0:
            self._add("direction", [], stripped, at)
            return
        self._add("direction", [], stripped[:end], at)
        self._flush()
        self.state.bracket = None
        rest = stripped[end + 1 :].lstrip(".,:; ")
        if rest:
            self._speech_text(rest, at + stripped.index(rest))

    def _direction_segment(self, text: str, at: int) -> None:
        """A direction standing on its own (bracketed or a one-line Moby direction)."""
        self._flush()
        text = text.strip().strip("[]()_").strip()
        if text:
            self._add("direction", [], text, at)
        self._flush()

    def _direction_line(self, text: str, at: int) -> None:
        """An unbracketed direction line; lines of one paragraph form one direction."""
        if self.state.paragraph_break:
            self._flush()
        self._add("direction", [], text, at)

    # --- item building ---------------------------------------------------------------------

    def _add(self, kind: str, speakers: list[str], text: str, at: int) -> None:
        current = self._open
        if current is None or current.type != kind or current.speakers != speakers:
            self._flush()
            current = self._open = _Open(kind, list(speakers), at)
        if text:
            current.lines.append(text)

    def _flush(self) -> None:
        current, self._open = self._open, None
        if current is None or not current.lines:
            return
        self.items.append(
            ParsedItem(
                type=current.type,  # type: ignore[arg-type]
                text="\n".join(current.lines),
                speakers=current.speakers,
                offset=current.offset,
            )
        )


# --- chunk parsing -------------------------------------------------------------------------


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
    )


def parse_chunk(text: str, context: ChunkContext) -> ChunkParse:
    """Parse one chunk of a play, starting from the state its context describes.

    Args:
        text: the chunk's text.
        context: where in the play the chunk begins (from the outline pre-scan).

    Returns:
        The chunk's items in reading order; title, author and cast when it holds front matter.
    """
    result = ChunkParse(language=context.language)
    body_start = 0
    if context.front_matter_end is not None:
        body_start = context.front_matter_end
        front = read_front_matter(text[:body_start])
        result.title, result.subtitle, result.author = front.title, front.subtitle, front.author
        result.cast = front.cast
    state = ReaderState.from_context(context)
    # A chunk that starts mid-paragraph inside a speech or a direction carries that item on.
    continues = state.bracket is not None or (
        not state.paragraph_break and (state.speech_text or not state.speakers)
    )
    reader = Reader(layout_from_context(text[body_start:], context), state)
    reader.read(text[body_start:], base=body_start)
    result.continues_previous = continues and not reader.opened_with_label
    result.items = reader.items
    return result
