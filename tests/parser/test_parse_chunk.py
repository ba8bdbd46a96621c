"""Parsing one chunk on its own: offsets and reader states, and the context it starts from."""

from __future__ import annotations

from playparse.heuristic import Reader, ReaderState, parse_chunk
from playparse.heuristic_layout import Layout
from playparse.schema import ChunkContext

Item = tuple[str, list[str], str]


# --- offsets and states ------------------------------------------------------------------------


def test_items_record_where_their_text_starts() -> None:
    text = "ACT I\n\nHAMLET. To be.\n  [Aside] Or not.\n"
    reader = Reader(Layout(labels=["HAMLET"]))
    reader.read(text, base=100)
    assert [(i.text, i.offset) for i in reader.items] == [
        ("ACT I", 100),
        ("To be.", 100 + text.index("To be.")),
        ("Aside", 100 + text.index("Aside]")),
        ("Or not.", 100 + text.index("Or not.")),
    ]


def test_snapshots_record_the_state_at_every_line_start() -> None:
    snapshots: list[ReaderState] = []
    reader = Reader(Layout(labels=["HAMLET"]))
    reader.read("ACT I\n\nHAMLET.\nTo be\n[or not", snapshots=snapshots)
    assert len(snapshots) == 5
    assert [(s.act, s.speakers, s.speech_text, s.paragraph_break) for s in snapshots] == [
        (None, [], False, True),
        (1, [], False, False),
        (1, [], False, True),
        (1, ["HAMLET"], False, False),
        (1, ["HAMLET"], True, False),
    ]
    assert reader.state.bracket == "]"


# --- parse_chunk -------------------------------------------------------------------------------


def context(**fields: object) -> ChunkContext:
    """A context carrying the pre-scan's layout for a play with HAMLET and OPHELIA."""
    layout = {
        "speaker_labels": ["HAMLET", "OPHELIA"],
        "speech_indent": 0,
        "indented_speech_blocks": False,
        "wrap_width": 72,
    }
    return ChunkContext(**{**layout, **fields})  # type: ignore[arg-type]


def items(text: str, chunk_context: ChunkContext) -> list[Item]:
    return [(i.type, i.speakers, i.text) for i in parse_chunk(text, chunk_context).items]


def test_a_chunk_starting_mid_speech_carries_the_speech_on() -> None:
    ctx = context(open_speakers=["HAMLET"], paragraph_break=False)
    assert parse_chunk("and so it ends.\n", ctx).continues_previous is True
    assert items("and so it ends.\n\nOPHELIA.\nNo.\n", ctx) == [
        ("line", ["HAMLET"], "and so it ends."),
        ("line", ["OPHELIA"], "No."),
    ]


def test_a_chunk_starting_at_a_later_paragraph_of_a_speech_does_not_continue_it() -> None:
    ctx = context(open_speakers=["HAMLET"], paragraph_break=True)
    assert parse_chunk("Another paragraph.\n", ctx).continues_previous is False
    assert items("Another paragraph.\n", ctx) == [("line", ["HAMLET"], "Another paragraph.")]


def test_a_chunk_starting_right_after_a_label_starts_a_new_item() -> None:
    ctx = context(open_speakers=["HAMLET"], after_label=True, paragraph_break=False)
    assert parse_chunk("first words.\n", ctx).continues_previous is False
    assert items("first words.\n", ctx) == [("line", ["HAMLET"], "first words.")]


def test_a_chunk_starting_inside_a_bracket_continues_the_direction() -> None:
    ctx = context(open_speakers=["HAMLET"], paragraph_break=False, open_bracket="]")
    assert parse_chunk("window.] Look there.\n", ctx).continues_previous is True
    assert items("window.] Look there.\n", ctx) == [
        ("direction", [], "window."),
        ("line", ["HAMLET"], "Look there."),
    ]


def test_a_chunk_starting_mid_direction_outside_a_speech_continues_it() -> None:
    ctx = context(paragraph_break=False)
    assert parse_chunk("and BOTTOM\n", ctx).continues_previous is True
    assert items("and BOTTOM\n", ctx) == [("direction", [], "and BOTTOM")]


def test_a_chunk_whose_first_line_a_wrapped_sentence_runs_into_continues_the_speech() -> None:
    ctx = context(
        speaker_labels=["HAMLET", "Horatio"],
        open_speakers=["HAMLET"],
        paragraph_break=False,
        previous_line="And when he comes, as he will come, I'll tell the",
        wrap_width=50,
    )
    assert items("Horatio: all of it.\n", ctx) == [("line", ["HAMLET"], "Horatio: all of it.")]
    finished = ctx.model_copy(update={"previous_line": "I'll tell him."})
    assert items("Horatio: all of it.\n", finished) == [("line", ["Horatio"], "all of it.")]


def test_a_chunk_starting_inside_a_deeper_direction_paragraph_continues_it() -> None:
    ctx = context(open_speakers=["HAMLET"], paragraph_break=False, direction_indent=4)
    assert parse_chunk("    window.\nLook there.\n", ctx).continues_previous is True
    assert items("    window.\nLook there.\n", ctx) == [
        ("direction", [], "window."),
        ("line", ["HAMLET"], "Look there."),
    ]


def test_a_chunk_starting_after_a_direction_line_without_a_stop_takes_a_bare_heading() -> None:
    ctx = context(
        open_speakers=["HAMLET"],
        paragraph_break=False,
        previous_line="    Curtain",
        previous_direction=True,
    )
    text = "ACT II\n    A room.\nOPHELIA.\nNo.\n"
    assert [kind for kind, _, _ in items(text, ctx)] == ["act", "direction", "line"]
    spoken = ctx.model_copy(update={"previous_direction": False})
    assert [kind for kind, _, _ in items(text, spoken)] == ["line", "line"]


def test_a_chunk_of_a_text_without_blank_lines_reads_deeper_lines_as_directions() -> None:
    text = "    Sie geht.\nWie schön.\n"
    ctx = context(open_speakers=["ANNA"], paragraph_break=False, previous_line="Hallo.")
    unspaced = ctx.model_copy(update={"spaced_speeches": False})
    assert items(text, unspaced) == [
        ("direction", [], "Sie geht."),
        ("line", ["ANNA"], "Wie schön."),
    ]
    assert items(text, ctx) == [("line", ["ANNA"], "Sie geht.\nWie schön.")]


# --- chunks starting inside a line -------------------------------------------------------------


def test_a_chunk_starting_inside_a_line_reads_it_whole_and_keeps_its_own_part() -> None:
    ctx = context(line_prefix="ANNA. Es war am", speaker_labels=["ANNA", "BEN"])
    parse = parse_chunk(" Abend [sie lacht] und dann.\nBEN. Ja.\n", ctx)
    assert [(i.type, i.speakers, i.text) for i in parse.items] == [
        ("line", ["ANNA"], "Abend"),
        ("direction", [], "sie lacht"),
        ("line", ["ANNA"], "und dann."),
        ("line", ["BEN"], "Ja."),
    ]
    assert (parse.continues_previous, parse.line_joint) == (True, " ")
    assert parse.items[0].offset == 1


def test_a_chunk_cut_inside_a_word_joins_without_a_space() -> None:
    ctx = context(line_prefix="ANNA. Es war am Abe", speaker_labels=["ANNA"])
    parse = parse_chunk("nd.\n", ctx)
    assert [(i.type, i.text) for i in parse.items] == [("line", "nd.")]
    assert (parse.continues_previous, parse.line_joint) == (True, "")


def test_a_chunk_starting_inside_a_line_after_a_direction_continues_nothing() -> None:
    ctx = context(line_prefix="ANNA. Hallo [sie lacht]", speaker_labels=["ANNA"])
    parse = parse_chunk(" und dann.\n", ctx)
    assert [(i.type, i.text) for i in parse.items] == [("line", "und dann.")]
    assert parse.continues_previous is False


def test_a_chunk_starting_inside_a_bracketed_line_goes_on_with_the_direction() -> None:
    ctx = context(line_prefix="    [Er geht langsam", open_speakers=["ANNA"], paragraph_break=False)
    parse = parse_chunk(" zum Fenster.] Schön.\n", ctx)
    assert [(i.type, i.text) for i in parse.items] == [
        ("direction", "zum Fenster."),
        ("line", "Schön."),
    ]
    assert parse.continues_previous is True


def test_a_context_stored_before_the_newer_fields_still_loads() -> None:
    stored = {"index": 3, "open_speakers": ["HAMLET"], "previous_line": "To be.", "wrap_width": 72}
    ctx = ChunkContext.model_validate(stored)
    assert (ctx.previous_direction, ctx.spaced_speeches) == (False, None)
    assert (ctx.item_open, ctx.line_prefix) == (None, None)


def test_a_chunk_opening_with_a_label_continues_nothing() -> None:
    # Mid-paragraph after a direction: the label still starts afresh.
    ctx = context(paragraph_break=False, previous_line="    Hamlet. Ophelia.")
    parse = parse_chunk("HAMLET.\n    [Aside.]\nTo be.\n", ctx)
    assert parse.continues_previous is False
    assert [(i.type, i.text) for i in parse.items] == [("direction", "Aside."), ("line", "To be.")]


def test_the_context_layout_is_used_over_what_the_chunk_shows() -> None:
    # One mixed-case label is not enough to recognise a Moby e-text from the chunk alone.
    text = "First Witch\n\n    When shall we three meet again\n\n    Exit\n    Anon.\n"
    moby = ChunkContext(
        speaker_labels=["First Witch"], speech_indent=4, indented_speech_blocks=True
    )
    assert items(text, moby) == [
        ("line", ["First Witch"], "When shall we three meet again"),
        ("direction", [], "Exit"),
        ("line", ["First Witch"], "Anon."),
    ]
    assert {kind for kind, _, _ in items(text, ChunkContext())} == {"direction"}


def test_without_the_pre_scan_a_chunk_judges_its_own_layout() -> None:
    parse = parse_chunk("HAMLET.\nTo be.\n\nOPHELIA.\nMy lord.\n", ChunkContext(language="en"))
    assert parse.language == "en"
    assert [(i.type, i.speakers, i.text, i.offset) for i in parse.items] == [
        ("line", ["HAMLET"], "To be.", 8),
        ("line", ["OPHELIA"], "My lord.", 25),
    ]


def test_front_matter_fills_title_author_and_cast_never_items() -> None:
    front = "DIE PROBE\nvon Anna Beispiel\n\nPersonen.\n  Anna, eine Witwe.\n\n"
    ctx = context(front_matter_end=len(front), speaker_labels=["ANNA"])
    parse = parse_chunk(front + "ANNA.\nHallo.\n", ctx)
    assert (parse.title, parse.author) == ("Die Probe", "Anna Beispiel")
    assert [(c.name, c.description) for c in parse.cast] == [("Anna", "eine Witwe")]
    assert [(i.type, i.speakers, i.text, i.offset) for i in parse.items] == [
        ("line", ["ANNA"], "Hallo.", len(front) + len("ANNA.\n")),
    ]


def test_a_chunk_without_front_matter_has_no_title() -> None:
    parse = parse_chunk("DIE PROBE\n\nHAMLET.\nHi.\n", context())
    assert (parse.title, parse.author, parse.cast) == (None, None, [])
