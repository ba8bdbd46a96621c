"""Patterns of printed plays: numerals, headings, labels and front-matter lines."""

from __future__ import annotations

import time

import pytest

from playparse.assemble import parse_text
from playparse.heuristic_patterns import (
    AUTHOR_LINE,
    CAST_HEADING,
    LABEL_ALONE,
    LABEL_INLINE,
    STAGE_LINE,
    Heading,
    clean_label,
    ends_sentence,
    is_capitals,
    is_name_like,
    label_key,
    match_heading,
    numeral,
    split_joint,
)
from playparse.planning import plan_play


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("12", 12),
        ("3:", 3),
        ("IV", 4),
        ("iv", 4),
        ("V.", 5),
        ("XLII", 42),
        ("MCMXCIV", 1994),
        ("one", 1),
        ("Twenty", 20),
        ("third", 3),
        ("twentieth", 20),
        ("Erster", 1),
        ("zweiten", 2),
        ("Siebte", 7),
        ("eilfte", 11),
        ("первое", 1),
        ("второй", 2),
        ("Четвёртое", 4),
        ("Première", 1),
        ("deuxieme", 2),
        ("troisième", 3),
        ("unique", 1),
        ("primero", 1),
        ("Segundo", 2),
        ("tercera", 3),
        ("décimo", 10),
        ("primo", 1),
        ("terzo", 3),
        ("settimo", 7),
    ],
)
def test_numeral_reads_digits_roman_numerals_and_words(token: str, value: int) -> None:
    assert numeral(token) == value


@pytest.mark.parametrize(
    "token", ["", "foo", "IIII", "Iv", "twenty-first", "Scene", "2¹", "٣", "12345", "9" * 30]
)
def test_numeral_is_none_for_anything_else(token: str) -> None:
    assert numeral(token) is None


@pytest.mark.parametrize(
    ("line", "kind", "number", "setting"),
    [
        ("ACT I", "act", 1, None),
        ("ACT I.", "act", 1, None),
        ("Act 1", "act", 1, None),
        ("ACT THE FIRST", "act", 1, None),
        ("SCENE II. A heath.", "scene", 2, "A heath."),
        ("SCENE III: Forres. The palace.", "scene", 3, "Forres. The palace."),
        ("Scene 2 — The garden", "scene", 2, "The garden"),
        ("Erster Aufzug", "act", 1, None),
        ("Zweiter Auftritt", "scene", 2, None),
        ("Erster Akt", "act", 1, None),
        ("Erste Szene", "scene", 1, None),
        ("3. Akt", "act", 3, None),
        ("Zweites Bild", "scene", 2, None),
        ("Действие первое", "act", 1, None),
        ("Явление 2. Сад", "scene", 2, "Сад"),
        ("Картина вторая", "scene", 2, None),
        ("Acte III", "act", 3, None),
        ("Scène 2", "scene", 2, None),
        ("Scène première. Le salon.", "scene", 1, "Le salon."),
        ("Tableau 3", "scene", 3, None),
        ("Atto primo", "act", 1, None),
        ("Scena terza", "scene", 3, None),
        ("Acto segundo", "act", 2, None),
        ("Jornada tercera", "act", 3, None),
        ("Cuadro quinto", "scene", 5, None),
    ],
)
def test_match_heading_reads_act_and_scene_headings(
    line: str, kind: str, number: int, setting: str | None
) -> None:
    assert match_heading(line) == Heading(kind=kind, number=number, title=line, setting=setting)


def test_match_heading_keeps_the_printed_title_without_outer_spaces() -> None:
    heading = match_heading("   ACT  II  ")
    assert heading is not None
    assert (heading.kind, heading.number, heading.title) == ("act", 2, "ACT  II")


@pytest.mark.parametrize(
    "line",
    [
        "",
        "act one",  # a heading starts with a capital
        "Act of God",  # no number
        "ACTS I",  # not a heading word
        "Scene",
        "The first act",
        "3. Akt Wohnzimmer",  # number first: a setting needs punctuation before it
        "HAMLET. To be, or not to be.",
        "ACT " + "I" * 200,  # too long to be a heading
    ],
)
def test_match_heading_rejects_other_lines(line: str) -> None:
    assert match_heading(line) is None


def test_a_line_shaped_like_a_heading_is_left_to_the_reader() -> None:
    # On its own the pattern cannot tell; the reader judges it by the lines around it.
    heading = match_heading("Act one more time")
    assert heading is not None and heading.setting == "more time"


@pytest.mark.parametrize(
    ("label", "key"),
    [("DER PRINZ.", "der prinz"), ("Lady  Macbeth:", "lady macbeth"), ("Dr. Rank", "dr rank")],
)
def test_label_key_ignores_case_punctuation_and_spacing(label: str, key: str) -> None:
    assert label_key(label) == key


@pytest.mark.parametrize(
    ("name", "capitals"),
    [
        ("DER PRINZ", True),
        ("DR. VON BRAUSEPULVER", True),
        ("MASCHA und TREPLEV", True),  # particles in lower case do not count
        ("МАША", True),
        ("Der Prinz", False),
        ("A", False),
        ("IV", False),  # a Roman numeral alone is a heading or list number
        ("ACT IV", True),
    ],
)
def test_is_capitals(name: str, capitals: bool) -> None:
    assert is_capitals(name) is capitals


@pytest.mark.parametrize(
    ("name", "like"),
    [("First Witch", True), ("Graf von Appiani", True), ("the Duke", False), ("Go home", False)],
)
def test_is_name_like(name: str, like: bool) -> None:
    assert is_name_like(name) is like


def test_split_joint_splits_only_into_known_speakers() -> None:
    known = {"wendla", "frau bergmann", "маша", "треплев"}
    assert split_joint("WENDLA UND FRAU BERGMANN", known) == ["WENDLA", "FRAU BERGMANN"]
    assert split_joint("МАША и ТРЕПЛЕВ", known) == ["МАША", "ТРЕПЛЕВ"]
    assert split_joint("WENDLA, MELCHIOR", known) == ["WENDLA, MELCHIOR"]
    assert split_joint("ROSENCRANTZ AND GUILDENSTERN", known) == ["ROSENCRANTZ AND GUILDENSTERN"]


@pytest.mark.parametrize(
    ("line", "ends"),
    [
        ("To be.", True),
        ("Wie? ", True),
        ("Nimmermehr!", True),
        ("Und dann –", True),
        ("»Ein andermal!«", True),
        ("gebracht werden", False),
        ("to be,", False),
        ("so weiß ich;", False),
        ("I say to you:", False),
        ("", False),
        (None, False),
    ],
)
def test_ends_sentence(line: str | None, ends: bool) -> None:
    assert ends_sentence(line) is ends


def test_clean_label() -> None:
    assert clean_label("  DER   PRINZ. ") == "DER PRINZ"
    assert clean_label("HAMLET:") == "HAMLET"


def test_label_alone_reads_name_aside_and_punctuation() -> None:
    m = LABEL_ALONE.match("TREPLEV (entering):")
    assert m is not None
    assert (m["name"], m["aside"].strip(), m["punct"]) == ("TREPLEV", "(entering)", ":")
    m = LABEL_ALONE.match("First Witch")
    assert m is not None and (m["name"], m["punct"]) == ("First Witch", None)


def test_label_inline_needs_punctuation_before_the_speech() -> None:
    m = LABEL_INLINE.match("FRAU BERGMANN [küßt sie]. Mein Kind!")
    assert m is not None
    assert (m["name"], m["aside"], m["rest"]) == ("FRAU BERGMANN", " [küßt sie]", "Mein Kind!")
    m = LABEL_INLINE.match("ÉLISE : Quoi ?")
    assert m is not None and (m["name"], m["rest"]) == ("ÉLISE", "Quoi ?")
    assert LABEL_INLINE.match("WENDLA Warum?") is None


@pytest.mark.parametrize(
    "line",
    [
        "Personen.",
        "Personen der Handlung:",
        "Dramatis Personae",
        "DRAMATIS PERSONÆ.",
        "The Persons of the Play",
        "Действующие лица",
        "Personnages",
        "Personajes",
        "Personaggi",
    ],
)
def test_cast_headings(line: str) -> None:
    assert CAST_HEADING.match(line)


def test_cast_heading_is_a_line_of_its_own() -> None:
    assert CAST_HEADING.match("Characters in this play are fictitious.") is None


@pytest.mark.parametrize(
    ("line", "author"),
    [("by William Shakespeare", "William Shakespeare"), ("von G. E. Lessing", "G. E. Lessing")],
)
def test_author_line(line: str, author: str) -> None:
    m = AUTHOR_LINE.match(line)
    assert m is not None and m["author"] == author


@pytest.mark.parametrize(
    "line",
    [
        "Exit",
        "Exeunt",
        "Enter BANQUO",
        "Re-enter Ghost",
        "Alarums. Enter MACBETH",
        "Curtain.",
        "Vorhang",
        "Ab.",
        "Alle ab.",
        "Занавес",
        "Уходит.",
        "Il sort.",
        "Rideau",
        "Telón.",
        "Vase.",
        "Sipario",
        "Escono.",
    ],
)
def test_entrance_exit_and_curtain_lines(line: str) -> None:
    assert STAGE_LINE.match(line)


@pytest.mark.parametrize(
    "line",
    [
        "Alarum'd by his sentinel",
        "Enterprise is sick",
        "Abend wird es",
        "About it!",
        "Exitus",
        "Ilse sortiert",
    ],
)
def test_words_that_only_begin_like_stage_words_are_not_stage_lines(line: str) -> None:
    assert not STAGE_LINE.match(line)


def test_a_footnote_mark_or_a_huge_number_after_a_heading_word_parses() -> None:
    """Neither is an act number, and neither may stop the play from parsing."""
    text = "ACT 2¹\n\nSCENE 99999999999999999999\n\nHAMLET. To be.\n\nACT II\n\nOPHELIA. Or not.\n"
    playbook = parse_text(text, 2500)
    assert [act.number for act in playbook.acts if act.number is not None] == [2]
    lines = [i.text for a in playbook.acts for s in a.scenes for i in s.items if i.type == "line"]
    assert lines == ["To be.", "Or not."]


def test_lines_of_thousands_of_spaces_cost_their_length_not_its_square() -> None:
    # Each of these took the patterns 0.1 to 2 s of backtracking (quadratic in the run of
    # spaces); a 2 MB upload of such lines held its job's planning for minutes.
    run = " " * 9_990
    shapes = [f"ANNA{run}x", f"ACT I. x{run}y", f"by x{run}(", f"Dramatis Personae{run}x"]
    shapes += [f"A{run}and", f"title: x{run}y", f"DER PRINZ (leise{run}"]
    text = "ANNA.\nHello.\n\n" + "\n\n".join(shapes * 5) + "\n\nBEN.\nGoodbye.\n"
    started = time.process_time()
    plan_play(text, 2500)
    parse_text(text, 2500)
    # About 0.2 s of CPU now; over 30 s before.
    assert time.process_time() - started < 10
