"""The outline pre-scan: front matter, characters, headings and where each chunk begins."""

from __future__ import annotations

import pytest

from playparse.assemble import parse_text
from playparse.outline import (
    Outline,
    build_characters,
    find_front_matter_end,
    guess_language,
    scan,
)
from playparse.schema import CastEntry, CharacterRef
from tests.parser import plays

# --- front matter ------------------------------------------------------------------------------


def test_the_body_begins_at_the_first_heading_after_the_title_page() -> None:
    outline = scan(plays.LESSING)
    assert outline.front_matter_end == plays.LESSING.index("Erster Aufzug")
    assert (outline.title, outline.subtitle, outline.author) == (
        "Die Probe",
        "Ein Lustspiel in zwei Aufzügen",
        "Anna Beispiel",
    )
    assert [entry.name for entry in outline.cast] == [
        "Odoardo",
        "Claudia",
        "Hettore Gonzaga",
        "Marinelli",
        "Angelo",
    ]


def test_without_headings_the_body_begins_at_the_first_label_after_the_cast() -> None:
    text = "DER BESUCH\nvon Grete Muster\n\nPersonen.\n  Anna, eine Witwe.\n  Bruno, ihr Sohn.\n\n"
    play = text + "ANNA. Wer kommt da?\n\nBRUNO. Ich bin es.\n"
    outline = scan(play)
    assert outline.front_matter_end == len(text)
    assert (outline.title, outline.author) == ("Der Besuch", "Grete Muster")


def test_a_bare_heading_ends_the_front_matter_without_a_blank_line_before_it() -> None:
    front = "DIE PROBE\nvon Anna Beispiel\nPersonen.\n  Anna.\n  Ben.\n"
    outline = scan(front + "Erster Aufzug\nANNA.\nHallo.\nBEN.\nJa.\n")
    assert outline.front_matter_end == len(front)
    assert [entry.name for entry in outline.cast] == ["Anna", "Ben"]


@pytest.mark.parametrize(
    "text",
    [
        "ACT I\n\nHAMLET.\nHi.\n",  # a heading first: nothing before the body
        "HAMLET.\nHi.\n\nOPHELIA.\nHo.\n",  # no heading and no cast list
        "A long preface\n" + "of many lines\n" * 90 + "\nACT I\n\nHAMLET.\nHi.\n",
    ],
)
def test_plays_without_front_matter(text: str) -> None:
    assert find_front_matter_end(text) is None
    outline = scan(text)
    assert (outline.front_matter_end, outline.title, outline.cast) == (None, None, [])


def test_a_long_title_page_counts_when_it_has_a_cast_list() -> None:
    front = "TITLE\n\nPersonen.\n  Anna.\n" + "Vorrede.\n" * 90 + "\n"
    assert find_front_matter_end(front + "ACT I\n\nANNA.\nHi.\n") == len(front)


def test_a_speech_before_the_first_heading_is_kept() -> None:
    text = (
        "CHORUS.\nTwo households, both alike in dignity,\nIn fair Verona, where we lay our scene.\n"
        "\nACT I\n\nSAMPSON.\nGregory, on my word, we'll not carry coals.\n"
    )
    play = parse_text(text)
    spoken = [item.text for act in play.acts for scene in act.scenes for item in scene.items]
    assert spoken[0].startswith("Two households")
    assert play.title != "Chorus."


PROLOGUE = (
    "CHORUS.\nTwo households, both alike in dignity,\nIn fair Verona, where we lay our scene,\n"
    "From ancient grudge break to new mutiny,\nWhere civil blood makes civil hands unclean.\n\n"
)
BODY = "ACT I\n\n" + "SAMPSON.\nGregory, on my word, we'll not carry coals.\n\n" * 12


def test_a_prologue_after_the_title_page_begins_the_play() -> None:
    front = "ROMEO AND JULIET\nA Tragedy\nby William Shakespeare\n\n"
    outline = scan(front + PROLOGUE + BODY)
    assert outline.front_matter_end == len(front)
    assert (outline.title, outline.author) == ("Romeo and Juliet", "William Shakespeare")


def test_a_prologue_after_the_cast_list_begins_the_play() -> None:
    front = "ROMEO AND JULIET\n\nDramatis Personae\n  Chorus.\n  Sampson.\n\n"
    outline = scan(front + PROLOGUE + BODY)
    assert outline.front_matter_end == len(front)
    assert [entry.name for entry in outline.cast] == ["Chorus", "Sampson"]


def test_a_prologue_by_a_cast_member_in_mixed_case_begins_the_play() -> None:
    front = "ROMEO AND JULIET\n\nDramatis Personae\n  Chorus.\n  Sampson.\n\n"
    prologue = "Chorus. Two households, both alike in dignity.\n\n"
    assert find_front_matter_end(front + prologue + BODY) == len(front)


def test_a_prologue_parses_the_same_in_chunks() -> None:
    text = "ROMEO AND JULIET\nby William Shakespeare\n\n" + PROLOGUE + BODY
    first = parse_text(text).acts[0]
    assert (first.number, first.scenes[0].items[0].text[:14]) == (None, "Two households")
    assert parse_text(text, chunk_size=200).export() == parse_text(text).export()


@pytest.mark.parametrize(
    "front",
    [
        # A title printed like a label, with a subtitle that names rather than speaks.
        "DIE PROBE.\nEin Lustspiel in zwei Aufzügen.\n\n",
        "HAMLET.\nPrince of Denmark.\n\n",
        # A title page naming its author.
        "HAMLET.\nA tragedy, in five acts.\nBy William Shakespeare.\n\n",
        # A note on the setting after the cast list.
        "HAMLET\n\nPersons.\n  Hamlet.\n  Ophelia.\n\nThe scene: Elsinore. – Time, winter.\n\n",
    ],
)
def test_front_matter_that_looks_like_speech_stays_front_matter(front: str) -> None:
    play = "ACT I\n\nHAMLET.\nTo be, or not to be.\n\nOPHELIA.\nMy lord?\n"
    assert find_front_matter_end(front + play) == len(front)


# --- characters --------------------------------------------------------------------------------


def test_characters_in_order_of_first_speech_linked_to_their_cast_entries() -> None:
    outline = scan(plays.LESSING)
    assert outline.characters == [
        CharacterRef(id="der_prinz", name="Der Prinz", aliases=["DER PRINZ", "Hettore Gonzaga"]),
        CharacterRef(id="marinelli", name="Marinelli", aliases=["MARINELLI"]),
        CharacterRef(id="odoardo", name="Odoardo", aliases=["ODOARDO"]),
        CharacterRef(id="claudia", name="Claudia", aliases=["CLAUDIA"]),
        CharacterRef(id="angelo", name="Angelo", aliases=[]),  # in the cast, never speaks
    ]
    assert outline.character_ids()["hettore gonzaga"] == "der_prinz"


def test_russian_characters_keep_cyrillic_ids() -> None:
    outline = scan(plays.CHEKHOV)
    assert [(c.id, c.name) for c in outline.characters] == [
        ("маша", "Маша"),
        ("треплев", "Треплев"),
        ("аркадина", "Аркадина"),
    ]
    assert "Ирина Николаевна Аркадина" in outline.characters[2].aliases


def test_a_label_matching_two_cast_entries_links_to_neither() -> None:
    cast = [CastEntry(name="Graf Appiani"), CastEntry(name="Graf Orsini")]
    assert build_characters(["GRAF"], cast) == [
        CharacterRef(id="graf", name="Graf", aliases=["GRAF"]),
        CharacterRef(id="graf_appiani", name="Graf Appiani"),
        CharacterRef(id="graf_orsini", name="Graf Orsini"),
    ]


def test_a_cast_entry_named_by_a_label_outranks_those_whose_descriptions_mention_it() -> None:
    # Emilia Galotti's cast: her parents are "Eltern der Emilia".
    cast = [
        CastEntry(name="Emilia Galotti"),
        CastEntry(name="Odoardo", description="Eltern der Emilia"),
        CastEntry(name="Claudia Galotti", description="Eltern der Emilia"),
    ]
    characters = build_characters(["EMILIA", "CLAUDIA", "CLAUDIA GALOTTI"], cast)
    assert [(c.id, c.aliases) for c in characters] == [
        ("emilia", ["EMILIA", "Emilia Galotti"]),
        # Two labels of one cast entry are one person.
        ("claudia", ["CLAUDIA", "CLAUDIA GALOTTI", "Claudia Galotti"]),
        ("odoardo", []),
    ]


def test_a_label_with_the_family_name_of_the_cast_links_to_the_entry_it_names() -> None:
    # Odoardo is listed without the family name his wife and daughter are listed with.
    cast = [
        CastEntry(name="Emilia Galotti"),
        CastEntry(name="Odoardo", description="Eltern der Emilia"),
        CastEntry(name="Claudia Galotti", description="Eltern der Emilia"),
        CastEntry(name="Graf Appiani"),
    ]
    characters = build_characters(["ODOARDO", "ODOARDO GALOTTI", "ODOARDO ROTA"], cast)
    assert [(c.id, c.aliases) for c in characters] == [
        ("odoardo", ["ODOARDO", "ODOARDO GALOTTI"]),
        # Only a family name the cast list prints is left out.
        ("odoardo_rota", ["ODOARDO ROTA"]),
        ("emilia_galotti", []),
        ("claudia_galotti", []),
        ("graf_appiani", []),
    ]


def test_a_label_with_words_added_is_the_same_person_when_it_is_the_only_such_label() -> None:
    labels = ["MORITZ", "MELCHIOR", "MORITZ STIEFEL", "HÄNSCHEN RILOW", "HÄNSCHEN"]
    labels += ["ANTIPHOLUS", "ANTIPHOLUS OF EPHESUS", "ANTIPHOLUS OF SYRACUSE"]
    labels += ["MACBETH", "LENNOX", "MACBETH LENNOX", "WENDLA", "WENDLA UND ILSE"]
    assert [(c.id, c.aliases) for c in build_characters(labels, [])] == [
        ("moritz", ["MORITZ", "MORITZ STIEFEL"]),
        ("melchior", ["MELCHIOR"]),
        ("hanschen_rilow", ["HÄNSCHEN RILOW", "HÄNSCHEN"]),
        # Two longer forms: two more people.
        ("antipholus", ["ANTIPHOLUS"]),
        ("antipholus_of_ephesus", ["ANTIPHOLUS OF EPHESUS"]),
        ("antipholus_of_syracuse", ["ANTIPHOLUS OF SYRACUSE"]),
        ("macbeth", ["MACBETH"]),
        ("lennox", ["LENNOX"]),
        # The words added are a speaker of their own.
        ("macbeth_lennox", ["MACBETH LENNOX"]),
        # A joint label, whether or not its speakers are known.
        ("wendla", ["WENDLA"]),
        ("wendla_und_ilse", ["WENDLA UND ILSE"]),
    ]
    cast = [
        CastEntry(name="Prinz Carl"),
        CastEntry(name="Hettore Gonzaga", description="Prinz von Guastalla"),
    ]
    characters = build_characters(["PRINZ", "PRINZ VON GUASTALLA"], cast)
    assert [(c.id, c.aliases) for c in characters] == [
        ("prinz", ["PRINZ", "Prinz Carl"]),
        ("prinz_von_guastalla", ["PRINZ VON GUASTALLA", "Hettore Gonzaga"]),
    ]


def test_people_a_linked_entrys_description_names_are_people_of_their_own() -> None:
    # A cast paragraph that holds three people, as a Word document may have it.
    description = "дочь помещика. Илья Шамраев, поручик. Полина Андреевна, его жена"
    cast = [CastEntry(name="Нина Заречная", description=description), CastEntry(name="Маша")]
    characters = build_characters(["НИНА", "ШАМРАЕВ", "ПОЛИНА АНДРЕЕВНА"], cast)
    assert [(c.id, c.aliases) for c in characters] == [
        ("нина", ["НИНА", "Нина Заречная"]),
        ("шамраев", ["ШАМРАЕВ"]),
        ("полина_андреевна", ["ПОЛИНА АНДРЕЕВНА"]),
        ("маша", []),
    ]


def test_ids_stay_unique_when_names_slug_alike() -> None:
    characters = build_characters(["ÉLISE", "ELISE", "Élise"], [])
    assert [(c.id, c.name, c.aliases) for c in characters] == [
        ("elise", "Élise", ["ÉLISE"]),
        ("elise_2", "Elise", ["ELISE"]),
    ]


def test_a_linked_cast_entry_brings_its_aliases() -> None:
    cast = [CastEntry(name="Kammerdiener", aliases=["Diener"])]
    assert build_characters(["DER KAMMERDIENER"], cast) == [
        CharacterRef(
            id="der_kammerdiener",
            name="Der Kammerdiener",
            aliases=["DER KAMMERDIENER", "Diener", "Kammerdiener"],
        )
    ]


# --- layout and headings -----------------------------------------------------------------------


def test_layout_and_headings_of_the_whole_play() -> None:
    outline = scan(plays.MOBY)
    assert outline.indented_speech_blocks is True
    assert outline.speech_indent == 4
    assert outline.speaker_labels == ["THESEUS", "HIPPOLYTA", "First Fairy", "QUINCE"]
    assert [(h.kind, h.number, h.setting, h.offset) for h in outline.headings] == [
        ("act", 1, None, 0),
        ("scene", 1, "Athens. The palace of THESEUS.", 6),
        ("scene", 2, "A room in QUINCE's house.", plays.MOBY.index("SCENE II.")),
    ]


# --- where a chunk begins ----------------------------------------------------------------------


def state_at(outline: Outline, marker: str) -> tuple[object, ...]:
    context = outline.context_at(plays.LESSING.index(marker), 1)
    return (
        context.act,
        context.scene,
        context.open_speakers,
        context.after_label,
        context.paragraph_break,
        context.open_bracket,
    )


def test_context_at_tells_act_scene_and_open_speech() -> None:
    outline = scan(plays.LESSING)
    assert state_at(outline, "Erster Aufzug") == (None, None, [], False, True, None)
    assert state_at(outline, "    Die Szene") == (1, None, [], False, True, None)
    assert state_at(outline, "DER PRINZ.\n    [an") == (1, 1, [], False, True, None)
    assert state_at(outline, "    [an einem") == (1, 1, ["DER PRINZ"], True, False, None)
    assert state_at(outline, "    einige er") == (1, 1, ["DER PRINZ"], True, False, "]")
    assert state_at(outline, "traurigen") == (1, 1, ["DER PRINZ"], False, False, None)
    assert state_at(outline, "MARINELLI.") == (1, 1, ["DER PRINZ"], False, True, None)
    assert state_at(outline, "Zweiter Aufzug") == (1, 2, ["CLAUDIA"], False, True, None)


def test_context_at_tells_the_line_before_and_a_direction_running_on() -> None:
    text = "ANNA.\nHallo.\n\n    Sie geht zum\n    Fenster.\nWie schön.\n"
    outline = scan(text)
    inside = outline.context_at(text.index("    Fenster"), 1)
    assert (inside.previous_line, inside.direction_indent) == ("    Sie geht zum", 4)
    after = outline.context_at(text.index("Wie"), 2)
    assert (after.previous_line, after.direction_indent) == ("    Fenster.", 4)
    assert outline.context_at(0, 0).previous_line is None


def test_context_at_tells_whether_the_line_before_was_a_direction() -> None:
    text = (
        "Erster Auftritt\n\nANNA.\nHallo.\n\n    Sie geht.\nZweiter Auftritt\nBEN.\nJa.\n"
        "Dritter Auftritt\n"
    )
    outline = scan(text)
    assert outline.spaced_speeches is True
    assert outline.context_at(text.index("Zweiter"), 1).previous_direction is True
    assert outline.context_at(text.index("Dritter"), 2).previous_direction is False
    unspaced = "\n".join(line for line in plays.MOBY.splitlines() if line.strip())
    assert scan(unspaced).context_at(0, 0).spaced_speeches is False


def test_context_at_inside_a_line_gives_the_line_so_far_and_the_state_at_its_start() -> None:
    text = "Erster Akt\n\nANNA. Es war am Abend.\nBEN. Ja.\n"
    outline = scan(text)
    inside = outline.context_at(text.index("am Abend"), 1)
    assert inside.line_prefix == "ANNA. Es war "
    assert (inside.open_speakers, inside.paragraph_break, inside.item_open) == ([], True, False)
    at_start = outline.context_at(text.index("BEN."), 2)
    assert at_start.line_prefix is None
    assert (at_start.open_speakers, at_start.item_open) == (["ANNA"], True)


def test_context_at_carries_the_whole_play_layout_and_characters() -> None:
    outline = scan(plays.LESSING)
    context = outline.context_at(plays.LESSING.index("MARINELLI."), 4)
    assert context.index == 4
    assert context.act_title == "Erster Aufzug"
    assert context.scene_title == "Erster Auftritt"
    assert context.speaker_labels == ["DER PRINZ", "MARINELLI", "ODOARDO", "CLAUDIA"]
    assert context.indented_speech_blocks is False
    assert context.characters == outline.characters
    assert context.front_matter_end is None


def test_a_chunk_starting_in_the_front_matter_is_told_where_it_ends() -> None:
    outline = scan(plays.LESSING)
    assert outline.context_at(0, 0).front_matter_end == outline.front_matter_end
    assert outline.context_at(10, 0).front_matter_end == outline.front_matter_end - 10


def test_context_at_needs_a_scanned_outline() -> None:
    with pytest.raises(RuntimeError, match="scan"):
        Outline(front_matter_end=5).context_at(50, 1)


# --- language ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("the and of to is that you my not with " * 2, "en"),
        ("und der die das ist nicht ich sie mit ein " * 2, "de"),
        ("et le la les est que je vous pas une " * 2, "fr"),
        ("y el la los que es no se por una " * 2, "es"),
        ("e il la che non di un per una sono " * 2, "it"),
        ("Это траур по моей жизни.", "ru"),
    ],
)
def test_guess_language(text: str, language: str) -> None:
    assert guess_language(text) == language


@pytest.mark.parametrize("text", ["", "1234 !!!", "the and of to is that you my not with"])
def test_guess_language_is_none_when_unclear(text: str) -> None:
    assert guess_language(text) is None


def test_the_outline_language_comes_from_the_body() -> None:
    assert scan(plays.CHEKHOV).language == "ru"
