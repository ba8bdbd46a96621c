"""Assembly of chunk parses into one playbook: acts, scenes, merged items, character ids."""

from __future__ import annotations

import pytest

from playparse.assemble import UNTITLED, assemble, reflow
from playparse.errors import ParseError
from playparse.outline import scan
from playparse.schema import CastEntry, ChunkParse, DirectionItem, LineItem, ParsedItem


def heading(kind: str, number: int | None, text: str, setting: str | None = None) -> ParsedItem:
    return ParsedItem(type=kind, number=number, text=text, setting=setting)  # type: ignore[arg-type]


def said(speaker: str | list[str], text: str) -> ParsedItem:
    speakers = [speaker] if isinstance(speaker, str) else speaker
    return ParsedItem(type="line", speakers=speakers, text=text)


def done(text: str) -> ParsedItem:
    return ParsedItem(type="direction", text=text)


def chunk(*items: ParsedItem, continues: bool = False, **fields: object) -> ChunkParse:
    return ChunkParse(items=list(items), continues_previous=continues, **fields)  # type: ignore[arg-type]


def structure(parses: list[ChunkParse]) -> list[tuple[object, ...]]:
    """Acts and scenes as (act number, scene number, setting, item count)."""
    play = assemble(parses)
    return [
        (act.number, scene.number, scene.setting, len(scene.items))
        for act in play.acts
        for scene in act.scenes
    ]


def items(parses: list[ChunkParse]) -> list[LineItem | DirectionItem]:
    play = assemble(parses)
    return [item for act in play.acts for scene in act.scenes for item in scene.items]


# --- acts and scenes ---------------------------------------------------------------------------


def test_acts_and_scenes_come_from_headings() -> None:
    parses = [
        chunk(heading("act", 1, "ACT I"), heading("scene", 1, "SCENE I. A heath.", "A heath.")),
        chunk(said("WITCH", "Hail!"), heading("scene", 2, "SCENE II"), said("DUNCAN", "Who?")),
        chunk(heading("act", 2, "ACT II"), heading("scene", 1, "SCENE I"), done("Exeunt")),
    ]
    assert structure(parses) == [(1, 1, "A heath.", 1), (1, 2, None, 1), (2, 1, None, 1)]
    play = assemble(parses)
    assert [(act.title, [s.title for s in act.scenes]) for act in play.acts] == [
        ("ACT I", ["SCENE I. A heath.", "SCENE II"]),
        ("ACT II", ["SCENE I"]),
    ]


def test_text_before_any_heading_goes_into_an_unnumbered_act_and_scene() -> None:
    parses = [chunk(done("A room."), said("ANNA", "Hallo."), heading("act", 1, "Erster Akt"))]
    parses.append(chunk(said("ANNA", "Wieder da.")))
    assert structure(parses) == [(None, None, None, 2), (1, None, None, 1)]


def test_a_scene_heading_before_any_act_opens_an_unnumbered_act() -> None:
    play = assemble([chunk(heading("scene", 3, "Scène 3"), said("ÉLISE", "Quoi ?"))])
    assert [(act.number, act.title) for act in play.acts] == [(None, None)]
    assert play.acts[0].scenes[0].number == 3


def test_nothing_but_headings_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no speeches or stage directions"):
        assemble([chunk(heading("act", 1, "ACT I"))])
    with pytest.raises(ParseError):
        assemble([])


# --- items across chunk boundaries -------------------------------------------------------------


def test_an_item_cut_by_the_chunk_boundary_is_joined_again() -> None:
    parses = [
        chunk(said("HAMLET", "To be, or not to be,")),
        chunk(said("HAMLET", "that is the question."), said("OPHELIA", "My lord?"), continues=True),
    ]
    assert items(parses) == [
        LineItem(character_ids=["hamlet"], text="To be, or not to be,\nthat is the question."),
        LineItem(character_ids=["ophelia"], text="My lord?"),
    ]


@pytest.mark.parametrize(
    "second",
    [
        chunk(said("HAMLET", "Again."), continues=False),  # a new speech by the same speaker
        chunk(said("OPHELIA", "Again."), continues=True),  # another speaker
        chunk(done("Again."), continues=True),  # another kind
    ],
)
def test_items_are_joined_only_when_they_continue_the_same_item(second: ChunkParse) -> None:
    assert len(items([chunk(said("HAMLET", "Once.")), second])) == 2


def test_an_item_is_never_joined_across_a_heading() -> None:
    parses = [
        chunk(said("HAMLET", "Once."), heading("scene", 2, "SCENE 2")),
        chunk(said("HAMLET", "Again."), continues=True),
    ]
    assert structure(parses) == [(None, None, None, 1), (None, 2, None, 1)]


@pytest.mark.parametrize(
    ("first", "second", "joint"), [("Es war am", "Abend.", " "), ("Es war am Abe", "nd.", "")]
)
def test_an_item_cut_inside_a_line_is_joined_by_what_stood_at_the_cut(
    first: str, second: str, joint: str
) -> None:
    parses = [
        chunk(said("ANNA", first)),
        chunk(said("ANNA", second), continues=True, line_joint=joint),
    ]
    assert [item.text for item in items(parses)] == ["Es war am Abend."]


def test_only_the_first_item_of_a_chunk_continues_the_previous_one() -> None:
    parses = [
        chunk(said("HAMLET", "One.")),
        chunk(said("HAMLET", "Two."), said("HAMLET", "Three."), continues=True),
    ]
    assert [item.text for item in items(parses)] == ["One.\nTwo.", "Three."]


# --- characters --------------------------------------------------------------------------------


def test_labels_get_the_same_id_in_every_chunk_whatever_the_case() -> None:
    parses = [
        chunk(said("DER PRINZ", "Klagen!")),
        chunk(said("Der Prinz", "Gut."), said(["MARINELLI", "DER PRINZ"], "Ja.")),
    ]
    ids = [item.character_ids for item in items(parses) if isinstance(item, LineItem)]
    assert ids == [["der_prinz"], ["der_prinz"], ["marinelli", "der_prinz"]]


def test_labels_map_to_the_outline_ids_and_new_labels_get_new_ids() -> None:
    text = "Personen.\n  Hettore Gonzaga, Prinz von Guastalla.\n\nERSTER AKT\n\nDER PRINZ.\nJa.\n"
    outline = scan(text)
    parses = [chunk(said("Hettore Gonzaga", "Ja."), said("DER PRINZ", "Ja."), said("CONTI", "?"))]
    play = assemble(parses, outline)
    lines = [item for scene in play.acts[0].scenes for item in scene.items]
    assert [item.character_ids for item in lines if isinstance(item, LineItem)] == [
        ["der_prinz"],
        ["der_prinz"],
        ["conti"],
    ]
    assert [(c.id, c.description) for c in play.characters] == [
        ("der_prinz", "Prinz von Guastalla"),
        ("conti", None),
    ]


def test_speakers_are_listed_before_the_cast_members_who_never_speak() -> None:
    cast = [CastEntry(name="Angelo"), CastEntry(name="Odoardo", description="Vater")]
    play = assemble([chunk(said("ODOARDO", "Wo ist sie?"), cast=cast)])
    assert [(c.id, c.name, c.description) for c in play.characters] == [
        ("odoardo", "Odoardo", "Vater"),
        ("angelo", "Angelo", None),
    ]


# --- title and language ------------------------------------------------------------------------


def test_title_author_and_language_come_from_the_first_chunk_that_has_them() -> None:
    parses = [
        chunk(done("Ein Saal."), language="de"),
        chunk(said("ANNA", "Hallo."), title="Der Besuch", author="Grete Muster"),
        chunk(said("ANNA", "Tschüss."), title="Ignored", subtitle="Ein Spiel"),
    ]
    play = assemble(parses)
    assert (play.title, play.subtitle, play.author, play.language) == (
        "Der Besuch",
        "Ein Spiel",
        "Grete Muster",
        "de",
    )


def test_a_play_without_a_title_is_untitled() -> None:
    assert assemble([chunk(done("A heath."))]).title == UNTITLED


def test_the_export_is_a_playbook_v1_document() -> None:
    exported = assemble([chunk(said("ANNA", "Hallo."))]).export()
    assert exported["schema"] == "playbook/v1"
    assert exported["acts"] == [
        {
            "number": None,
            "title": None,
            "scenes": [
                {
                    "number": None,
                    "title": None,
                    "setting": None,
                    "items": [{"type": "line", "character_ids": ["anna"], "text": "Hallo."}],
                }
            ],
        }
    ]


# --- reflow ------------------------------------------------------------------------------------


def test_reflow_joins_lines_the_typesetter_wrapped() -> None:
    prose = "Ich habe zu früh Tag gemacht. Der Morgen ist so schön. Ich will\nausfahren."
    assert (
        reflow(prose, 72)
        == "Ich habe zu früh Tag gemacht. Der Morgen ist so schön. Ich will ausfahren."
    )


def test_reflow_keeps_the_line_breaks_of_verse() -> None:
    verse = "When shall we three meet again\nIn thunder, lightning, or in rain?"
    assert reflow(verse, 72) == verse


def test_reflow_measures_against_the_wrap_width() -> None:
    verse = "When shall we three meet again\nIn thunder, lightning, or in rain?"
    assert reflow(verse, 40) == "When shall we three meet again In thunder, lightning, or in rain?"


def test_reflow_joins_lines_within_twelve_characters_of_the_wrap_width() -> None:
    assert reflow("x" * 59 + "\ny", 72) == "x" * 59 + "\ny"
    assert reflow("x" * 60 + "\ny", 72) == "x" * 60 + " y"


def test_reflow_collapses_runs_of_spaces() -> None:
    assert reflow("x" * 70 + "\nnext  word", 72) == "x" * 70 + " next word"
    assert reflow("one  line", 72) == "one  line"  # a single line is left alone


# --- what a model may send -------------------------------------------------------------------


def test_act_and_scene_numbers_no_play_prints_are_left_out() -> None:
    play = assemble(
        [chunk(heading("act", 2**31, "ACT"), heading("scene", -1, "SCENE"), said("A", "Hi."))]
    )
    assert (play.acts[0].number, play.acts[0].scenes[0].number) == (None, None)
    assert assemble([chunk(heading("act", 9999, "ACT"), said("A", "Hi."))]).acts[0].number == 9999


def test_a_speaker_given_as_a_character_id_is_that_character() -> None:
    text = "PERSONEN:\nCLAUDIA GALOTTI, Mutter der Emilia.\nEMILIA.\n\nEMILIA. Ja.\n"
    play_outline = scan(text)
    ids = {c.id for c in play_outline.characters}
    assert "claudia_galotti" in ids
    play = assemble([chunk(said("claudia_galotti", "Ach."))], play_outline)
    line = play.acts[0].scenes[0].items[0]
    assert isinstance(line, LineItem) and line.character_ids == ["claudia_galotti"]
    assert len(play.characters) == len(ids)


def test_a_speaker_with_no_letters_names_no_character_and_the_line_stays() -> None:
    play = assemble([chunk(said(["...", "—"], "Hm."), said("", "Ha."), said("A", "Ho."))])
    assert [i.character_ids for i in play.acts[0].scenes[0].items] == [[], [], ["a"]]  # type: ignore[union-attr]
    assert [c.id for c in play.characters] == ["a"]


def test_a_speaker_as_long_as_a_sentence_gets_an_id_the_database_can_hold() -> None:
    speaker = "THE MAN WHO " + "WALKS IN " * 40
    play = assemble([chunk(said(speaker + "ONCE", "Hi.")), chunk(said(speaker + "AGAIN", "Ho."))])
    assert all(len(c.id) <= 128 for c in play.characters)
    assert len({c.id for c in play.characters}) == 2


def test_a_speech_carried_on_without_its_speakers_or_spelt_otherwise_is_one_speech() -> None:
    for second in (said([], "that is the question."), said("Hamlet.", "that is the question.")):
        parses = [chunk(said("HAMLET", "To be,")), chunk(second, continues=True)]
        assert items(parses) == [
            LineItem(character_ids=["hamlet"], text="To be,\nthat is the question.")
        ]


def test_items_with_no_text_at_all_are_a_parse_error() -> None:
    with pytest.raises(ParseError):
        assemble([chunk(said("A", ""), done("  "))])


def test_blank_titles_are_no_titles_and_a_later_chunk_does_not_outrank_the_title_page() -> None:
    play = assemble(
        [chunk(said("A", "Hi."), title="   ", author="\n"), chunk(done("x."), title="Real")]
    )
    assert (play.title, play.author) == ("Real", None)
    text = "HAMLET\nby William Shakespeare\n\nACT I\n\nHAMLET. Hi.\n"
    play_outline = scan(text)
    assert play_outline.title
    late = assemble(
        [chunk(said("HAMLET", "Hi.")), chunk(done("Exit."), title="THE END")], play_outline
    )
    assert late.title == play_outline.title
    first = assemble([chunk(said("HAMLET", "Hi."), title="The Tragedy of Hamlet")], play_outline)
    assert first.title == "The Tragedy of Hamlet"


def test_a_joint_label_of_known_characters_names_each_of_them() -> None:
    text = "PERSONEN:\nHAMLET.\nHORATIO.\n\nHAMLET. Ja.\n"
    parses = [
        chunk(said("HAMLET", "Sieh!"), said("HAMLET AND HORATIO", "Schwört!")),
        chunk(said("Hamlet & Horatio", "Ja."), said("HAMLET UND OPHELIA", "Nein.")),
        chunk(said("HORATIO", "Mein Prinz.")),
    ]
    for play_outline in (scan(text), None):
        play = assemble(parses, play_outline)
        lines = [item for scene in play.acts[0].scenes for item in scene.items]
        assert [item.character_ids for item in lines if isinstance(item, LineItem)] == [
            ["hamlet"],
            ["hamlet", "horatio"],
            ["hamlet", "horatio"],
            ["hamlet_und_ophelia"],
            ["horatio"],
        ], play_outline
        assert "hamlet_and_horatio" not in {c.id for c in play.characters}


def test_a_name_in_full_width_letters_or_decomposed_accents_is_the_same_character() -> None:
    decomposed = "RENE\u0301"
    parses = [chunk(said("RENÉ", "Oui."), said(decomposed, "Non."), said("ＲＥＮＥ\u0301", "Si."))]
    assert {tuple(item.character_ids) for item in items(parses)} == {("rene",)}


def test_a_heading_repeated_at_a_chunks_top_opens_nothing_and_the_speech_goes_on() -> None:
    parses = [
        chunk(heading("act", 2, "ZWEITER AKT"), heading("scene", 3, "DRITTER AUFTRITT")),
        chunk(done("He sits."), said("HAMLET", "To be,")),
        chunk(
            heading("act", 2, "ZWEITER AKT"),
            heading("scene", 3, "DRITTER AUFTRITT"),
            said("HAMLET", "that is the question."),
            heading("scene", 4, "VIERTER AUFTRITT"),
            heading("scene", 4, "VIERTER AUFTRITT"),
            said("OPHELIA", "My lord."),
            continues=True,
        ),
    ]
    assert structure(parses) == [(2, 3, None, 2), (2, 4, None, 1)]
    assert items(parses)[1] == LineItem(
        character_ids=["hamlet"], text="To be,\nthat is the question."
    )
    # Headings without numbers are never taken for repeats.
    epilogue = chunk(heading("act", None, "EPILOG"), done("Vorhang."))
    assert structure([*parses, epilogue, epilogue]) == [
        (2, 3, None, 2),
        (2, 4, None, 1),
        (None, None, None, 1),
        (None, None, None, 1),
    ]
