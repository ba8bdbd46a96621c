"""The line reader: speakers, speeches, stage directions and headings in each layout."""

from __future__ import annotations

from playparse.heuristic import Reader, ReaderState
from playparse.heuristic_layout import Layout

Item = tuple[str, list[str], str]


def read(text: str, labels: list[str], **layout: object) -> list[Item]:
    """Items as (type, speakers, text) read with the given labels and layout."""
    reader = Reader(Layout(labels=labels, **layout))  # type: ignore[arg-type]
    reader.read(text)
    return [(item.type, item.speakers, item.text) for item in reader.items]


def line(speaker: str, text: str) -> Item:
    return ("line", [speaker], text)


def direction(text: str) -> Item:
    return ("direction", [], text)


# --- speakers ----------------------------------------------------------------------------------


def test_label_alone_in_capitals_with_period_colon_or_nothing() -> None:
    text = "DER PRINZ.\nKlagen!\n\nMARINELLI:\nHier.\n\nCLAUDIA\nStill!\n"
    assert read(text, ["DER PRINZ", "MARINELLI", "CLAUDIA"]) == [
        line("DER PRINZ", "Klagen!"),
        line("MARINELLI", "Hier."),
        line("CLAUDIA", "Still!"),
    ]


def test_inline_labels_with_period_and_colon() -> None:
    text = "HAMLET. To be, or not to be.\nOPHELIA: My lord?\nÉLISE : Quoi ?\n"
    assert read(text, ["HAMLET", "OPHELIA", "ÉLISE"]) == [
        line("HAMLET", "To be, or not to be."),
        line("OPHELIA", "My lord?"),
        line("ÉLISE", "Quoi ?"),
    ]


def test_a_speech_runs_on_over_several_lines_until_the_next_label() -> None:
    text = (
        "WENDLA. Hätt ich gewußt,\n    ich wäre lieber nicht\n    vierzehn geworden.\n"
        "MELCHIOR. So?\n"
    )
    assert read(text, ["WENDLA", "MELCHIOR"], speech_indent=4) == [
        line("WENDLA", "Hätt ich gewußt,\nich wäre lieber nicht\nvierzehn geworden."),
        line("MELCHIOR", "So?"),
    ]


def test_a_name_the_layout_does_not_know_is_not_a_label() -> None:
    assert read("HORATIO.\nWell.\n", ["HAMLET"]) == [direction("HORATIO.\nWell.")]


def test_a_name_in_mixed_case_inside_a_speech_is_not_a_label() -> None:
    text = "MARINELLI.\nGnädigster Herr,\nMarinelli. So heiße ich.\n"
    assert read(text, ["MARINELLI"]) == [
        line("MARINELLI", "Gnädigster Herr,\nMarinelli. So heiße ich."),
    ]


def test_a_wrapped_line_opening_with_a_mixed_case_word_and_colon_continues_the_speech() -> None:
    # The first line fills the 40-character measure and breaks off mid-sentence.
    text = "Anna: Wenn sie in Verwahrung gebracht werden\nMuß: so weiß ich schon.\n"
    assert read(text, ["Anna", "Muß"], wrap_width=40) == [
        line("Anna", "Wenn sie in Verwahrung gebracht werden\nMuß: so weiß ich schon."),
    ]


def test_a_mixed_case_colon_label_after_a_finished_sentence_starts_a_speech() -> None:
    text = "Anna: Ich habe so lange auf dich gewartet, Ben.\nBen: Hier bin ich.\n"
    assert read(text, ["Anna", "Ben"], wrap_width=40) == [
        line("Anna", "Ich habe so lange auf dich gewartet, Ben."),
        line("Ben", "Hier bin ich."),
    ]


def test_a_colon_label_in_capitals_starts_a_speech_after_any_line() -> None:
    text = "DER PRINZ: Ich habe lange auf Sie gewartet, lieber\nMARINELLI: Gnädigster Herr!\n"
    assert read(text, ["DER PRINZ", "MARINELLI"], wrap_width=40) == [
        line("DER PRINZ", "Ich habe lange auf Sie gewartet, lieber"),
        line("MARINELLI", "Gnädigster Herr!"),
    ]


def test_a_label_indented_beyond_the_margin_is_text() -> None:
    text = "HAMLET.\nTo be.\n\n    ROSENCRANTZ.\nNo.\n"
    assert read(text, ["HAMLET", "ROSENCRANTZ"]) == [
        line("HAMLET", "To be."),
        direction("ROSENCRANTZ."),
        line("HAMLET", "No."),
    ]


def test_joint_labels_of_known_speakers_name_both() -> None:
    text = "WENDLA UND FRAU BERGMANN. Ach!\nМАША и ТРЕПЛЕВ. Сейчас!\n"
    labels = ["WENDLA", "FRAU BERGMANN", "МАША", "ТРЕПЛЕВ"]
    assert read(text, labels) == [
        ("line", ["WENDLA", "FRAU BERGMANN"], "Ach!"),
        ("line", ["МАША", "ТРЕПЛЕВ"], "Сейчас!"),
    ]


def test_moby_speech_paragraphs_open_with_a_one_line_direction() -> None:
    text = (
        "THESEUS\n\n    Go, Philostrate.\n\n    Exit PHILOSTRATE\n"
        "    Hippolyta, I woo'd thee with my sword.\n\nHIPPOLYTA\n\n    Four days.\n"
    )
    layout = {"speech_indent": 4, "indented_speech_blocks": True}
    assert read(text, ["THESEUS", "HIPPOLYTA"], **layout) == [
        line("THESEUS", "Go, Philostrate."),
        direction("Exit PHILOSTRATE"),
        line("THESEUS", "Hippolyta, I woo'd thee with my sword."),
        line("HIPPOLYTA", "Four days."),
    ]


def test_entrances_and_exits_after_a_blank_line_end_the_speech_text() -> None:
    text = "DUNCAN\nWhat bloody man is that?\n\nExeunt\n"
    assert read(text, ["DUNCAN"]) == [
        line("DUNCAN", "What bloody man is that?"),
        direction("Exeunt"),
    ]


def test_an_exit_opening_a_paragraph_at_the_speech_indentation_takes_one_line() -> None:
    text = "DUNCAN\nWhat bloody man is that?\n\nExit Ross\nGo on.\n"
    assert read(text, ["DUNCAN"]) == [
        line("DUNCAN", "What bloody man is that?"),
        direction("Exit Ross"),
        line("DUNCAN", "Go on."),
    ]


def test_a_paragraph_set_deeper_than_the_speech_is_a_direction() -> None:
    text = "DER PRINZ.\nGeht!\n\n        Der Kammerdiener geht ab.\n\nNun.\n"
    assert read(text, ["DER PRINZ"]) == [
        line("DER PRINZ", "Geht!"),
        direction("Der Kammerdiener geht ab."),
        line("DER PRINZ", "Nun."),
    ]


def test_every_line_of_a_paragraph_set_deeper_than_the_speech_is_direction() -> None:
    text = "ANNA.\nHallo.\n\n    Sie geht zum Fenster und\n    öffnet es.\nWie schön.\n"
    assert read(text, ["ANNA"]) == [
        line("ANNA", "Hallo."),
        direction("Sie geht zum Fenster und\nöffnet es."),
        line("ANNA", "Wie schön."),
    ]


def test_a_moby_direction_wrapped_at_a_comma_or_into_lower_case_runs_on() -> None:
    text = (
        "HAMLET\n\n    To be.\n\n    Enter OPHELIA, with\n    flowers\n    My lord?\n\n"
        "    Enter the KING, the QUEEN,\n    POLONIUS\n    Look here.\n\n"
        "    Exit OPHELIA\n    But soft!\n"
    )
    assert read(text, ["HAMLET"], speech_indent=4, indented_speech_blocks=True) == [
        line("HAMLET", "To be."),
        direction("Enter OPHELIA, with\nflowers"),
        line("HAMLET", "My lord?"),
        direction("Enter the KING, the QUEEN,\nPOLONIUS"),
        line("HAMLET", "Look here."),
        direction("Exit OPHELIA"),
        line("HAMLET", "But soft!"),
    ]


# --- stage directions --------------------------------------------------------------------------


def test_directions_on_their_own_lines_in_brackets_parentheses_and_underscores() -> None:
    text = (
        "DER PRINZ.\n    [an einem Arbeitstische, voller\n    Briefschaften.]\nKlagen!\n"
        "(Er lieset\nund seufzt.)\nViel gefodert.\n_Er klingelt._\nGut.\n"
    )
    assert read(text, ["DER PRINZ"]) == [
        direction("an einem Arbeitstische, voller\nBriefschaften."),
        line("DER PRINZ", "Klagen!"),
        direction("Er lieset\nund seufzt."),
        line("DER PRINZ", "Viel gefodert."),
        direction("Er klingelt."),
        line("DER PRINZ", "Gut."),
    ]


def test_a_direction_at_the_start_of_a_speech_line() -> None:
    text = "HAMLET.\n[Aside] A little more than kin.\n(Sits.) And less than kind.\n"
    assert read(text, ["HAMLET"]) == [
        direction("Aside"),
        line("HAMLET", "A little more than kin."),
        direction("Sits."),
        line("HAMLET", "And less than kind."),
    ]


def test_brackets_and_underscores_mark_directions_inside_a_line_parentheses_do_not() -> None:
    text = "ÉLISE. Eh bien ! [Elle sort.] Adieu.\nVALÈRE. Non _en riant_ mon ami (vraiment).\n"
    assert read(text, ["ÉLISE", "VALÈRE"]) == [
        line("ÉLISE", "Eh bien !"),
        direction("Elle sort."),
        line("ÉLISE", "Adieu."),
        line("VALÈRE", "Non"),
        direction("en riant"),
        line("VALÈRE", "mon ami (vraiment)."),
    ]


def test_two_directions_inside_one_line() -> None:
    text = "ÉLISE. Eh bien ! [Elle sort.] Adieu [Elle revient.] Bonjour, mon ami.\n"
    assert read(text, ["ÉLISE"]) == [
        line("ÉLISE", "Eh bien !"),
        direction("Elle sort."),
        line("ÉLISE", "Adieu"),
        direction("Elle revient."),
        line("ÉLISE", "Bonjour, mon ami."),
    ]


def test_a_direction_closing_mid_line_hands_back_to_the_speech() -> None:
    text = "OPHELIA.\n[She goes to the\nwindow.] Look there.\n"
    assert read(text, ["OPHELIA"]) == [
        direction("She goes to the\nwindow."),
        line("OPHELIA", "Look there."),
    ]


def test_an_aside_between_label_and_speech_is_a_direction() -> None:
    text = "FRAU BERGMANN [küßt sie]. Mein Kind!\nТРЕПЛЕВ (входит). Скоро начало?\n"
    assert read(text, ["FRAU BERGMANN", "ТРЕПЛЕВ"]) == [
        direction("küßt sie"),
        line("FRAU BERGMANN", "Mein Kind!"),
        direction("входит"),
        line("ТРЕПЛЕВ", "Скоро начало?"),
    ]


def test_an_unclosed_bracket_ends_with_its_paragraph() -> None:
    text = "HAMLET.\n[He walks to\nthe window.\n\nTo be.\n"
    assert read(text, ["HAMLET"]) == [
        direction("He walks to\nthe window."),
        line("HAMLET", "To be."),
    ]


def test_text_outside_any_speech_is_a_direction() -> None:
    text = "Thunder and lightning.\nEnter three Witches.\n\nA heath.\n"
    assert read(text, []) == [
        direction("Thunder and lightning.\nEnter three Witches."),
        direction("A heath."),
    ]


# --- headings ----------------------------------------------------------------------------------


def test_headings_end_the_speech_and_the_scene_description_is_a_direction() -> None:
    text = "WITCH.\nAll hail!\n\nACT I\nSCENE II. A heath.\n\nThunder. Enter three Witches.\n"
    reader = Reader(Layout(labels=["WITCH"]))
    reader.read(text)
    kinds = [(i.type, i.speakers, i.number, i.setting, i.text) for i in reader.items]
    assert kinds == [
        ("line", ["WITCH"], None, None, "All hail!"),
        ("act", [], 1, None, "ACT I"),
        ("scene", [], 2, "A heath.", "SCENE II. A heath."),
        ("direction", [], None, None, "Thunder. Enter three Witches."),
    ]
    assert (reader.state.act, reader.state.scene, reader.state.speakers) == (1, 2, [])


def test_a_heading_shaped_line_inside_a_paragraph_is_speech() -> None:
    text = "HAMLET.\nI say to you:\nAct one more time\nand we are done.\n"
    assert read(text, ["HAMLET"]) == [
        line("HAMLET", "I say to you:\nAct one more time\nand we are done."),
    ]


def test_a_bare_heading_right_after_a_finished_speech_line_is_a_heading() -> None:
    text = "HAMLET.\nTo be.\nACT II\n\nOPHELIA.\nNo.\nSCENE 2.\nHAMLET.\nYes.\n"
    assert headings_and_lines(text, ["HAMLET", "OPHELIA"]) == (
        [("act", 2), ("scene", 2)],
        [(["HAMLET"], "To be."), (["OPHELIA"], "No."), (["HAMLET"], "Yes.")],
    )


def test_a_bare_heading_between_lines_is_a_heading_before_a_direction_or_label() -> None:
    text = (
        "ANNA.\nGut.\nZweiter Auftritt\n    Anna. Ben.\nBEN.\nJa.\n"
        "Dritter Auftritt\n(Es wird Nacht.)\nANNA.\nNein.\n"
    )
    assert headings_and_lines(text, ["ANNA", "BEN"]) == (
        [("scene", 2), ("scene", 3)],
        [(["ANNA"], "Gut."), (["BEN"], "Ja."), (["ANNA"], "Nein.")],
    )


def test_a_heading_shaped_line_that_a_sentence_runs_into_is_speech() -> None:
    text = "HAMLET.\nAnd now we play\nAct two.\n\nOPHELIA.\nNo.\n"
    assert headings_and_lines(text, ["HAMLET", "OPHELIA"]) == (
        [],
        [(["HAMLET"], "And now we play\nAct two."), (["OPHELIA"], "No.")],
    )


def headings_and_lines(text: str, labels: list[str]) -> tuple[list[object], list[object]]:
    reader = Reader(Layout(labels=labels))
    reader.read(text)
    headings = [(i.type, i.number) for i in reader.items if i.type in ("act", "scene")]
    lines = [(i.speakers, i.text) for i in reader.items if i.type == "line"]
    return headings, lines


def test_a_scene_heading_with_the_setting_on_the_next_line() -> None:
    text = (
        "ACT I\n\nSCENE II.\nA room of state in the castle.\n\nHAMLET.\nTo be.\n\n"
        "SCENE III.\nA room in Polonius's house.\n\nOPHELIA.\nNo.\n"
    )
    assert headings_and_lines(text, ["HAMLET", "OPHELIA"]) == (
        [("act", 1), ("scene", 2), ("scene", 3)],
        [(["HAMLET"], "To be."), (["OPHELIA"], "No.")],
    )


def test_a_scene_heading_followed_directly_by_a_label() -> None:
    text = "ACT I\n\nSCENE 1\nHAMLET: To be.\nOPHELIA: No.\n\nSCENE 2\nHAMLET: Yes.\n"
    assert headings_and_lines(text, ["HAMLET", "OPHELIA"]) == (
        [("act", 1), ("scene", 1), ("scene", 2)],
        [(["HAMLET"], "To be."), (["OPHELIA"], "No."), (["HAMLET"], "Yes.")],
    )


def test_a_new_act_forgets_the_scene() -> None:
    reader = Reader(Layout(), ReaderState(act=1, act_title="ACT I", scene=3, scene_title="SCENE 3"))
    reader.read("Zweiter Aufzug\n\nDER PRINZ.\n")
    assert (reader.state.act, reader.state.act_title) == (2, "Zweiter Aufzug")
    assert (reader.state.scene, reader.state.scene_title) == (None, None)


# --- texts without blank lines -----------------------------------------------------------------

MOBY_UNSPACED = {"speech_indent": 4, "indented_speech_blocks": True, "spaced_speeches": False}


def test_moby_without_blank_lines_entrances_and_exits_are_directions() -> None:
    text = (
        "THESEUS\n    Go, Philostrate.\n    Exit PHILOSTRATE\n    Hippolyta, I woo'd thee\n"
        "    Enter EGEUS\n    Happy be Theseus.\n    Exeunt\n"
    )
    assert read(text, ["THESEUS"], **MOBY_UNSPACED) == [
        line("THESEUS", "Go, Philostrate."),
        direction("Exit PHILOSTRATE"),
        line("THESEUS", "Hippolyta, I woo'd thee"),
        direction("Enter EGEUS"),
        line("THESEUS", "Happy be Theseus."),
        direction("Exeunt"),
    ]


def test_a_speech_opens_with_what_is_spoken_even_when_it_reads_like_an_entrance() -> None:
    for text in (
        "SIWARD\n    Enter, sir, the castle.\n",
        "SIWARD\n\n    Enter, sir, the castle.\n",
    ):
        assert read(text, ["SIWARD"], speech_indent=4, indented_speech_blocks=True) == [
            line("SIWARD", "Enter, sir, the castle."),
        ]


def test_a_verse_line_opening_with_a_stage_word_inflected_is_speech() -> None:
    text = "MACBETH\n    Pale Hecate's offerings,\n    Alarum'd by his sentinel.\n"
    assert read(text, ["MACBETH"], **MOBY_UNSPACED) == [
        line("MACBETH", "Pale Hecate's offerings,\nAlarum'd by his sentinel."),
    ]


def test_where_speech_is_indented_a_heading_at_the_margin_needs_no_blank_lines() -> None:
    text = (
        "ALL\n    Hover through the fog and filthy air.\n    Exeunt\n"
        "SCENE II. A camp near Forres.\n    Alarum within. Enter DUNCAN\nDUNCAN\n"
        "    What bloody man is that?\nACT II\nSCENE I. Court of Macbeth's castle.\n"
        "BANQUO\n    How goes the night, boy?\n"
    )
    reader = Reader(Layout(labels=["ALL", "DUNCAN", "BANQUO"], **MOBY_UNSPACED))
    reader.read(text)
    assert [(i.type, i.number, i.setting) for i in reader.items if i.type in ("act", "scene")] == [
        ("scene", 2, "A camp near Forres."),
        ("act", 2, None),
        ("scene", 1, "Court of Macbeth's castle."),
    ]
    assert ("direction", [], "Alarum within. Enter DUNCAN") in [
        (i.type, i.speakers, i.text) for i in reader.items
    ]


def test_where_speech_is_indented_a_heading_shaped_line_of_speech_stays_speech() -> None:
    text = "HAMLET\n    I say to you:\n    Act one more time\n    and we are done.\n"
    assert read(text, ["HAMLET"], **MOBY_UNSPACED) == [
        line("HAMLET", "I say to you:\nAct one more time\nand we are done."),
    ]


def test_in_moby_a_label_stands_left_of_the_speech_however_little_it_is_indented() -> None:
    layout = {"speech_indent": 2, "indented_speech_blocks": True, "spaced_speeches": False}
    text = "HIPPOLYTA\n  Methinks she should not use a long one for such a\n  Pyramus: I hope.\n"
    assert read(text, ["HIPPOLYTA", "Pyramus"], **layout) == [
        line("HIPPOLYTA", "Methinks she should not use a long one for such a\nPyramus: I hope."),
    ]


def test_a_curtain_line_set_deeper_than_the_speech_ends_it_and_a_bare_heading_follows() -> None:
    text = (
        "ТРЕПЛЕВ.\nСон!\n    Занавес\nДействие второе\n    Площадка для крокета.\nМАША.\nЖарко.\n"
    )
    reader = Reader(Layout(labels=["ТРЕПЛЕВ", "МАША"]))
    reader.read(text)
    assert [(i.type, i.speakers, i.text) for i in reader.items] == [
        line("ТРЕПЛЕВ", "Сон!"),
        direction("Занавес"),
        ("act", [], "Действие второе"),
        direction("Площадка для крокета."),
        line("МАША", "Жарко."),
    ]


def test_a_curtain_line_at_the_speech_indentation_is_spoken() -> None:
    text = "ТРЕПЛЕВ.\nДовольно!\n    (Топнув ногой.)\nЗанавес!\n"
    assert read(text, ["ТРЕПЛЕВ"]) == [
        line("ТРЕПЛЕВ", "Довольно!"),
        direction("Топнув ногой."),
        line("ТРЕПЛЕВ", "Занавес!"),
    ]


def test_a_bare_heading_after_a_direction_line_without_a_stop_is_a_heading() -> None:
    text = "HAMLET.\nTo be.\n\n    They fight\nACT II\n    A room.\nOPHELIA.\nNo.\n"
    assert headings_and_lines(text, ["HAMLET", "OPHELIA"]) == (
        [("act", 2)],
        [(["HAMLET"], "To be."), (["OPHELIA"], "No.")],
    )


def test_without_blank_lines_a_line_set_deeper_after_a_finished_sentence_is_a_direction() -> None:
    text = "ANNA.\nHallo.\n    Sie geht zum Fenster und\n    öffnet es.\nWie schön.\nBEN.\nJa.\n"
    assert read(text, ["ANNA", "BEN"], spaced_speeches=False) == [
        line("ANNA", "Hallo."),
        direction("Sie geht zum Fenster und\nöffnet es."),
        line("ANNA", "Wie schön."),
        line("BEN", "Ja."),
    ]


def test_between_spaced_speeches_a_deeper_line_without_a_blank_goes_on_with_the_speech() -> None:
    # A hanging indent, or speech after a bracketed direction set at the same depth.
    text = "ANNA.\nHallo.\n    Wie geht es dir?\n\nBEN.\nJa.\n    [Lächelnd.]\n    Gut.\n"
    for spaced in (True, False):
        assert read(text, ["ANNA", "BEN"], spaced_speeches=spaced)[-1] == line("BEN", "Gut.")
    assert read(text, ["ANNA", "BEN"])[0] == line("ANNA", "Hallo.\nWie geht es dir?")
