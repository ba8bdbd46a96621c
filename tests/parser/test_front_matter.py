"""Front matter: title page, author and cast list; names printed in capitals made readable."""

from __future__ import annotations

import pytest

from playparse.front_matter import FrontMatter, pretty_name, read_front_matter
from playparse.schema import CastEntry
from tests.parser import plays


def cast(front: FrontMatter) -> list[tuple[str, str | None]]:
    return [(entry.name, entry.description) for entry in front.cast]


def test_german_title_page_and_personen() -> None:
    front = read_front_matter(plays.LESSING[: plays.LESSING.index("Erster Aufzug")])
    assert (front.title, front.subtitle, front.author) == (
        "Die Probe",
        "Ein Lustspiel in zwei Aufzügen",
        "Anna Beispiel",
    )
    assert cast(front) == [
        ("Odoardo", "Eltern der Emilia"),
        ("Claudia", "Eltern der Emilia"),
        ("Hettore Gonzaga", "Prinz von Guastalla"),
        ("Marinelli", "Kammerherr des Prinzen"),
        ("Angelo", None),
    ]


def test_russian_cast_list_keeps_commas_inside_the_description() -> None:
    front = read_front_matter(
        "Действующие лица\n"
        "  Ирина Николаевна Аркадина, по мужу Треплева, актриса.\n"
        "  Маша, его дочь.\n"
        "\n"
        "Действие происходит в усадьбе Сорина.\n"
    )
    assert front.title is None
    assert cast(front) == [
        ("Ирина Николаевна Аркадина", "по мужу Треплева, актриса"),
        ("Маша", "его дочь"),
    ]


def test_english_dramatis_personae_ends_at_the_first_paragraph_at_the_margin() -> None:
    front = read_front_matter(
        "THE TEMPEST\nby William Shakespeare\n\nDRAMATIS PERSONAE\n\n"
        "  ALONSO, King of Naples.\n  SEBASTIAN, his brother.\n\n"
        "  PROSPERO, the right Duke of Milan.\n\n"
        "SCENE: A ship at sea; an island.\n"
    )
    assert (front.title, front.author) == ("The Tempest", "William Shakespeare")
    assert cast(front) == [
        ("ALONSO", "King of Naples"),
        ("SEBASTIAN", "his brother"),
        ("PROSPERO", "the right Duke of Milan"),
    ]


def test_spanish_cast_list_at_the_margin() -> None:
    front = read_front_matter(
        "LA PRUEBA\nComedia en un acto\npor Ana Ejemplo\n\nPersonajes\n"
        "DON JUAN, caballero.\nDOÑA INÉS, novicia.\n"
    )
    assert (front.title, front.subtitle, front.author) == (
        "La Prueba",
        "Comedia en un acto",
        "Ana Ejemplo",
    )
    assert cast(front) == [("DON JUAN", "caballero"), ("DOÑA INÉS", "novicia")]


def test_a_deeper_line_describes_the_entry_above_it() -> None:
    front = read_front_matter("Personen.\n  Conti\n    ein Maler.\n  Angelo\n")
    assert front.cast == [
        CastEntry(name="Conti", description="ein Maler"),
        CastEntry(name="Angelo"),
    ]


def test_a_title_field_wins_over_the_first_line() -> None:
    front = read_front_matter("Project edition\nTitle: Der Besuch\nby Grete Muster\n")
    assert (front.title, front.subtitle, front.author) == (
        "Der Besuch",
        "Project edition",
        "Grete Muster",
    )


def test_no_cast_heading_means_no_cast() -> None:
    front = read_front_matter("THE CAST\nA Play\n\nNothing else here\n")
    assert (front.title, front.subtitle, front.cast) == ("The Cast", "A Play", [])


def test_empty_front_matter() -> None:
    assert read_front_matter("") == FrontMatter()


@pytest.mark.parametrize(
    ("printed", "written"),
    [
        ("DER PRINZ", "Der Prinz"),
        ("DR. VON BRAUSEPULVER", "Dr. von Brausepulver"),
        ("LE COMTE DE GUICHE", "Le Comte de Guiche"),
        ("JEAN-PIERRE", "Jean-Pierre"),
        ("ÉLISE", "Élise"),
        ("АРКАДИНА", "Аркадина"),
        ("  LADY   MACBETH ", "Lady Macbeth"),
        ("First Witch", "First Witch"),  # not in capitals: left as printed
    ],
)
def test_pretty_name(printed: str, written: str) -> None:
    assert pretty_name(printed) == written


@pytest.mark.parametrize(
    ("printed", "written"),
    [("EARL OF WESTMORELAND", "Earl of Westmoreland"), ("DUKE OF YORK", "Duke of York")],
)
def test_pretty_name_lowers_every_particle(printed: str, written: str) -> None:
    assert pretty_name(printed) == written
