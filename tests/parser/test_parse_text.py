"""The whole offline pipeline on small plays: what a reader of the playbook would see."""

from __future__ import annotations

import pytest

from playparse.assemble import parse_text
from playparse.chunking import plan_chunks
from playparse.schema import LineItem, Playbook
from tests.parser import plays


def view(play: Playbook) -> list[tuple[object, ...]]:
    """Every act, scene and item as a flat list of tuples."""
    rows: list[tuple[object, ...]] = []
    for act in play.acts:
        rows.append(("act", act.number))
        for scene in act.scenes:
            rows.append(("scene", scene.number, scene.setting))
            for item in scene.items:
                if isinstance(item, LineItem):
                    rows.append(("line", *item.character_ids, item.text))
                else:
                    rows.append(("direction", item.text))
    return rows


def test_german_labels_alone_with_cast_list() -> None:
    play = parse_text(plays.LESSING)
    assert (play.title, play.author) == ("Die Probe", "Anna Beispiel")
    assert view(play) == [
        ("act", 1),
        ("scene", None, None),
        ("direction", "Die Szene, ein Kabinett des Prinzen."),
        ("scene", 1, None),
        (
            "direction",
            "an einem Arbeitstische, voller Briefschaften und Papiere, deren einige er durchläuft.",
        ),
        (
            "line",
            "der_prinz",
            "Klagen, nichts als Klagen! Bittschriften, nichts als Bittschriften! Die "
            "traurigen Geschäfte; und man beneidet uns noch!",
        ),
        ("direction", "Er klingelt."),
        ("line", "der_prinz", "Ist Marinelli da?"),
        ("line", "marinelli", "Hier, gnädigster Herr."),
        ("scene", 2, None),
        ("direction", "Aside"),
        ("line", "odoardo", "Er sieht mich nicht."),
        ("line", "claudia", "Still!"),
        ("act", 2),
        ("scene", None, None),
        ("line", "der_prinz", "Und nun?"),
    ]
    assert [(c.id, c.description) for c in play.characters] == [
        ("der_prinz", "Prinz von Guastalla"),
        ("marinelli", "Kammerherr des Prinzen"),
        ("odoardo", "Eltern der Emilia"),
        ("claudia", "Eltern der Emilia"),
        ("angelo", None),
    ]


def test_german_inline_labels() -> None:
    assert view(parse_text(plays.WEDEKIND)) == [
        ("act", 1),
        ("scene", 1, None),
        ("direction", "Wohnzimmer."),
        ("line", "wendla", "Warum hast du mir das Kleid so lang gemacht, Mutter?"),
        ("line", "frau_bergmann", "Du wirst vierzehn Jahr heute!"),
        (
            "line",
            "wendla",
            "Hätt ich gewußt, daß du mir das Kleid so lang machen werdest, "
            "ich wäre lieber nicht vierzehn geworden.",
        ),
        ("direction", "küßt sie"),
        ("line", "frau_bergmann", "Mein Kind!"),
        ("line", "wendla", "frau_bergmann", "Ach!"),
        ("scene", 2, None),
        ("direction", "Er tritt ein."),
        ("line", "melchior", "Guten Tag."),
    ]


def test_russian_inline_labels_with_asides() -> None:
    play = parse_text(plays.CHEKHOV)
    assert (play.title, play.author, play.language) == ("Чайка", "Антон Чехов", "ru")
    assert view(play) == [
        ("act", 1),
        ("scene", None, None),
        ("direction", "Часть парка. Вечер."),
        ("line", "маша", "Это траур по моей жизни. Я несчастна."),
        ("direction", "входит"),
        ("line", "треплев", "Скоро начало?"),
        ("direction", "сыну"),
        ("line", "аркадина", "Мой милый сын, когда начало?"),
        ("line", "маша", "треплев", "Сейчас!"),
        ("act", 2),
        ("scene", None, None),
        ("line", "аркадина", "Жарко."),
    ]


def test_english_moby_layout() -> None:
    assert view(parse_text(plays.MOBY)) == [
        ("act", 1),
        ("scene", 1, "Athens. The palace of THESEUS."),
        ("direction", "Enter THESEUS, HIPPOLYTA, PHILOSTRATE, and Attendants"),
        (
            "line",
            "theseus",
            "Go, Philostrate,\nStir up the Athenian youth to merriments;\n"
            "The pale companion is not for our pomp.",
        ),
        ("direction", "Exit PHILOSTRATE"),
        (
            "line",
            "theseus",
            "Hippolyta, I woo'd thee with my sword,\nAnd won thy love, doing thee injuries.",
        ),
        ("line", "hippolyta", "Four days will quickly steep themselves in night."),
        ("line", "first_fairy", "Over hill, over dale."),
        ("direction", "Exeunt"),
        ("scene", 2, "A room in QUINCE's house."),
        ("direction", "Enter QUINCE and BOTTOM"),
        ("line", "quince", "Is all our company here?"),
    ]


def test_french_colon_labels() -> None:
    play = parse_text(plays.MOLIERE)
    assert [(c.id, c.name) for c in play.characters] == [("elise", "Élise"), ("valere", "Valère")]
    assert view(play) == [
        ("act", 1),
        ("scene", 1, None),
        ("direction", "Un salon."),
        ("line", "elise", "Quoi ? Vous ne voulez pas ?"),
        ("line", "valere", "Non, je ne veux pas, et je ne le voudrai jamais."),
        ("line", "elise", "Eh bien ! (Elle sort.)"),
        ("scene", 2, None),
        ("line", "valere", "Seul enfin."),
    ]


def test_spanish_and_italian_headings() -> None:
    assert view(parse_text(plays.ZORRILLA_GOLDONI)) == [
        ("act", 1),
        ("scene", 1, None),
        ("line", "don_juan", "¿Quién va?"),
        ("line", "dona_ines", "Yo."),
        ("act", 2),
        ("scene", 3, None),
        ("line", "arlecchino", "Eccomi."),
    ]


@pytest.mark.parametrize("name", ["LESSING", "WEDEKIND", "CHEKHOV", "MOBY"])
def test_small_chunks_assemble_to_the_one_chunk_result(name: str) -> None:
    text = getattr(plays, name)
    whole = parse_text(text, chunk_size=20_000).export()
    for size in (200, 230, 260):
        assert len(plan_chunks(text, size)) > 1
        assert parse_text(text, chunk_size=size).export() == whole, size


# --- known bugs --------------------------------------------------------------------------------

VERSE = """\
ROMEO.
But soft, what light through yonder window breaks?
It is the east, and Juliet is the sun.
Arise, fair sun, and kill the envious moon,
Who is already sick and pale with grief,
That thou her maid art far more fair than she:
Be not her maid, since she is envious;
Her vestal livery is but sick and green
And none but fools do wear it; cast it off.
It is my lady, O, it is my love!
O, that she knew she were!
She speaks yet she says nothing: what of that?
Her eye discourses; I will answer it.
I am too bold, 'tis not to me she speaks:
Two of the fairest stars in all the heaven,
Having some business, do entreat her eyes
To twinkle in their spheres till they return.
What if her eyes were there, they in her head?
The brightness of her cheek would shame those stars,
As daylight doth a lamp; her eyes in heaven
Would through the airy region stream so bright
That birds would sing and think it were not night.
"""


def test_a_play_in_verse_keeps_its_line_breaks() -> None:
    (speech,) = parse_text(VERSE).acts[0].scenes[0].items
    assert speech.text == VERSE.removeprefix("ROMEO.\n").rstrip("\n")


def test_act_and_scene_headings_on_one_line() -> None:
    text = (
        "ACT I. SCENE I. Elsinore. A platform before the castle.\n\nBERNARDO.\nWho's there?\n\n"
        "SCENE II. A room of state in the castle.\n\nKING.\nThough yet of Hamlet.\n"
    )
    assert [row for row in view(parse_text(text)) if row[0] in ("act", "scene")] == [
        ("act", 1),
        ("scene", 1, "Elsinore. A platform before the castle."),
        ("scene", 2, "A room of state in the castle."),
    ]


def test_a_speech_on_one_very_long_line_survives_small_chunks() -> None:
    long = " ".join(["Das ist ein langer Absatz ohne Zeilenumbruch, wie ihn Word liefert."] * 12)
    text = f"Erster Akt\n\nWENDLA. {long}\n\nFRAU BERGMANN. Ja.\n"
    assert len(long) > 2 * 200
    assert parse_text(text, chunk_size=200).export() == parse_text(text).export()


def test_lines_too_long_to_keep_whole_read_the_same_in_small_chunks() -> None:
    # Paragraphs of a Word document: each a line of thousands of characters, with directions
    # inside the speech, a speech opening with its direction, and a direction paragraph.
    speech = " ".join(
        f"Satz {n} geht weiter, _leise_ und dann [sie lacht] weiter." for n in range(60)
    )
    direction = "[" + " ".join(f"Sie geht zum Fenster {n}." for n in range(150)) + "]"
    text = (
        f"Erster Akt\n\nWENDLA. {speech}\n\nFRAU BERGMANN (leise). (zögernd) {speech}\n\n"
        f"{direction}\n\nWENDLA. {speech} Ende.\n"
    )
    assert max(len(line) for line in text.splitlines()) > 10 * 200
    whole = parse_text(text, chunk_size=20_000).export()
    for size in (200, 311, 577):
        assert parse_text(text, chunk_size=size).export() == whole, size


def test_mixed_case_colon_labels_on_consecutive_lines() -> None:
    text = "Anna: Hallo, wie geht es dir?\nBen: Gut, danke.\nAnna: Schön.\nBen: Und dir?\n"
    assert view(parse_text(text))[2:] == [
        ("line", "anna", "Hallo, wie geht es dir?"),
        ("line", "ben", "Gut, danke."),
        ("line", "anna", "Schön."),
        ("line", "ben", "Und dir?"),
    ]
