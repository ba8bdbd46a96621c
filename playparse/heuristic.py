"""The offline rule-based parser: reads a chunk of a printed play line by line.

The reader is a small state machine over lines. The same reader runs over the whole play in the
outline pre-scan (playparse.outline), which records its state at every line start; a chunk parsed
on its own starts from the state recorded where it begins, so chunks parsed independently yield
what one pass over the whole play would.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from playparse.front_matter import read_front_matter
from playparse.heuristic_context import ReaderState, item_open, layout_from_context, line_joint
from playparse.heuristic_layout import (
    Layout,
    indent_of,
    next_nonblank,
    wrapped_mid_sentence,
)
from playparse.heuristic_patterns import (
    INLINE_DIRECTION,
    LABEL_ALONE,
    LABEL_INLINE,
    STAGE_LINE,
    Heading,
    clean_label,
    ends_sentence,
    is_capitals,
    label_key,
    match_heading,
    split_joint,
)
from playparse.schema import ChunkContext, ChunkParse, ParsedItem

_CLOSERS = {"[": "]", "(": ")", "_": "_", "{": "}"}


@dataclass
class _Open:
    """The item being built: its kind, speakers, printed lines and offset."""

    type: str
    speakers: list[str]
    offset: int
    lines: list[str] = field(default_factory=list)
    # Whether it began before the chunk (in the head of a line the chunk starts inside).
    before_cut: bool = False


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
        # What the line being read turned out to hold: item kinds, "label" or "heading".
        self._line_holds: set[str] = set()
        # Text before this offset is read for its sense but not kept: the head of a line that
        # a chunk starts inside belongs to the chunk before.
        self.keep_from: int | None = None
        # Whether the first thing read added to the item open before it (True) or closed it.
        self.continued: bool | None = None

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
            self._line_holds = set()
            self._line(line, offset, following, nxt == i + 1)
            if line.strip():
                self.state.previous = line
                self.state.previous_direction = self._line_holds == {"direction"}
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
        elif not (self._heading(line, following, next_is_adjacent, at) or self._label(line, at)):
            self._text(line, stripped, at, deep)
        state.paragraph_break = False

    # --- line kinds ------------------------------------------------------------------------

    def _heading(
        self,
        line: str,
        following: str | None,
        next_is_adjacent: bool,
        at: int,
    ) -> bool:
        heading = match_heading(line)
        if heading is None:
            return False
        state = self.state
        if self.layout.speech_indent >= 2 and indent_of(line) < self.layout.speech_indent:
            # Where speech is indented, only labels and headings stand at the margin, so a
            # heading there needs no blank line around it.
            return self._open_heading(heading, at)
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
        # heading, a direction or a speaker label after it. A short stage direction
        # ("Curtain", "Exeunt") ends its sentence without a stop.
        finished = ends_sentence(previous) or (
            state.previous_direction and not wrapped_mid_sentence(previous, self.layout.wrap_width)
        )
        before_ok = (
            state.paragraph_break
            or (previous is not None and match_heading(previous.strip()) is not None)
            or (
                heading.setting is None
                and finished
                and (set_off_below or self._opens_scene(following or ""))
            )
        )
        if not (before_ok and after_ok):
            return False
        return self._open_heading(heading, at)

    def _open_heading(self, heading: Heading, at: int) -> bool:
        """Begin the act or scene `heading` announces (always True)."""
        state = self.state
        self._line_holds.add("heading")
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
        # Labels stand at the margin, left of the speech they introduce; in Moby e-texts
        # that may be only two spaces to the left ("  Pyramus: I hope" is spoken).
        margin = max(2, self.layout.speech_indent - 1)
        if self.layout.indented_speech_blocks:
            margin = self.layout.speech_indent - 1
        if indent > margin:
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
        # `at` is where the text of the line starts, after this many characters of margin.
        margin = len(line) - len(line.lstrip())
        alone = LABEL_ALONE.match(line)
        if alone is not None and self._is_label(alone["name"], indent):
            self._start_speech(alone["name"], at)
            if alone["aside"]:
                self._direction_segment(alone["aside"], at + alone.start("aside") - margin)
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
                self._direction_segment(inline["aside"], at + inline.start("aside") - margin)
            self._speech_text(inline["rest"], at + inline.start("rest") - margin)
            return True
        return False

    def _start_speech(self, name: str, at: int) -> None:
        self._flush()
        self._line_holds.add("label")
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
        if state.speech_text and self._opens_with_direction(line):
            # The first line of a later paragraph of the speech is a direction.
            self._flush()
            state.direction_indent = indent_of(line)
            trimmed = stripped.strip("[]()_").strip()
            self._add("direction", [], trimmed, at + stripped.find(trimmed))
            return
        if self._stage_line(line, stripped):
            self._flush()
            if self._set_apart(line):
                # Its typesetter may have wrapped it (see `_direction_runs_on`).
                state.direction_indent = indent_of(line)
            self._add("direction", [], stripped, at)
            return
        self._speech_text(stripped, at)

    def _stage_line(self, line: str, stripped: str) -> bool:
        """Whether a line inside a speech is an entrance, exit or curtain line of its own.

        Such a line comes after some of the speech (a speech opens with what is spoken:
        "Enter, sir, the castle.") and opens a paragraph. Without a blank line before it,
        it stands where the layout sets directions: at the speech's own indentation in Moby
        e-texts, which give every direction a line of its own; elsewhere deeper than the
        speech, after a finished sentence ("Curtain!" at the speech's indentation is spoken).
        """
        state = self.state
        if not state.speech_text or STAGE_LINE.match(stripped) is None:
            return False
        if state.paragraph_break or self.layout.indented_speech_blocks:
            return True
        finished = state.previous_direction or ends_sentence(state.previous)
        return finished and self._set_apart(line)

    def _set_apart(self, line: str) -> bool:
        """Whether a line stands where the layout sets directions apart from the speech."""
        deeper = indent_of(line) >= self.layout.speech_indent + 4
        return self.layout.indented_speech_blocks or deeper

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
        """Whether `line` opens a paragraph of direction inside a speech.

        After a blank line, in Moby e-texts every paragraph does; elsewhere one set deeper
        than the speech does. Where no blank lines set speeches apart, one set deeper starts
        where a line of the speech ended its sentence, deeper than that line too (not a
        hanging indent after a bracketed direction). Between spaced speeches, a deeper line
        without a blank line before it is a hanging indent.
        """
        if self.state.paragraph_break:
            return self._set_apart(line)
        previous = self.state.previous
        return (
            not self.layout.spaced_speeches
            and indent_of(line) >= self.layout.speech_indent + 4
            and indent_of(line) > indent_of(previous or "")
            and ends_sentence(previous)
        )

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
                # Trimmed at its start as a closed one is (see `_direction_segment`).
                body = text[1:].lstrip().lstrip("[]()_").lstrip()
                self._add("direction", [], body, at + len(text) - len(body))
                return
            self._direction_segment(text[1:end], at + 1)
            pos = end + 1
            while pos < len(text) and text[pos] in ".,:; ":
                pos += 1
        for m in INLINE_DIRECTION.finditer(text, pos):
            self._spoken(text[pos : m.start()], at + pos)
            self._direction_segment(m.group()[1:-1], at + m.start() + 1)
            pos = m.end()
        self._spoken(text[pos:], at + pos)

    def _spoken(self, text: str, at: int) -> None:
        at += len(text) - len(text.lstrip())
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
            self._speech_text(rest, at + len(stripped) - len(rest))

    def _direction_segment(self, text: str, at: int) -> None:
        """A direction standing on its own (bracketed or a one-line Moby direction)."""
        self._flush()
        inner = text.strip().strip("[]()_").strip()
        if inner:
            self._add("direction", [], inner, at + text.find(inner))
        self._flush()

    def _direction_line(self, text: str, at: int) -> None:
        """An unbracketed direction line; lines of one paragraph form one direction."""
        if self.state.paragraph_break:
            self._flush()
        self._add("direction", [], text, at)

    # --- item building ---------------------------------------------------------------------

    def _add(self, kind: str, speakers: list[str], text: str, at: int) -> None:
        self._line_holds.add(kind)
        current = self._open
        extends = current is not None and current.type == kind and current.speakers == speakers
        cut = self.keep_from
        if self.continued is None and (cut is None or at + len(text) > cut):
            # The first text read (past the cut) carries on the item open before it: one
            # running across the cut, or one the head of the line opened and this extends.
            held = current is not None and current.before_cut
            self.continued = cut is None or at < cut or (extends and held)
        before_cut = False
        if cut is not None and at < cut:
            before_cut = True
            kept = text[cut - at :]
            at = cut + len(kept) - len(kept.lstrip())
            text = kept.lstrip()
        if current is None or not extends:
            self._flush()
            current = self._open = _Open(kind, list(speakers), at)
        current.before_cut = current.before_cut or before_cut
        if text:
            if not current.lines:
                current.offset = at
            current.lines.append(text)
            self.state.item_open = True

    def _flush(self) -> None:
        if self.continued is None and self.keep_from is None:
            self.continued = False
        self.state.item_open = False
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
    reader = Reader(layout_from_context(text[body_start:], context), state)
    if context.line_prefix is not None and body_start == 0:
        # Starting inside a line, read the line whole but keep only this chunk's part of it,
        # which goes on with the item the chunk before ended in.
        prefix = context.line_prefix
        reader.keep_from = 0
        reader.read(prefix + text, base=-len(prefix))
        result.continues_previous = bool(reader.continued)
        result.line_joint = line_joint(text)
    else:
        reader.read(text[body_start:], base=body_start)
        # The first item carries on the item open where the chunk starts unless something
        # closed that item first (a blank line, a label, a heading, a direction of its own).
        result.continues_previous = bool(reader.continued) and item_open(context)
    result.items = reader.items
    return result
