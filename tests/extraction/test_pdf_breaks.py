"""Page breaks that are breaks in the text, and headings set in larger type, in PDF text."""

from __future__ import annotations

from playparse.extraction import extract
from playparse.extraction.pages import join_pages
from tests.extraction.builders import new_book

PITCH_MM = 5.0
TOP_MM = 25.0
# Lines of body text on a full page of the A5 book.
FULL = 30


def book(pages: list[list[tuple[str, int, int]]]) -> bytes:
    """A PDF whose pages hold the given lines: (text, type size, blank lines before it)."""
    pdf = new_book(headers=("Emilia Galotti", "Emilia Galotti"))
    pdf.set_auto_page_break(False)
    for lines in pages:
        pdf.add_page()
        y = TOP_MM
        for text, size, gap in lines:
            y += gap * PITCH_MM
            pdf.set_font("Helvetica", "B" if size > 10 else "", size)
            pdf.set_xy(pdf.l_margin, y)
            pdf.cell(0, PITCH_MM, text)
            y += PITCH_MM
    return bytes(pdf.output())


def speech(tag: str, count: int) -> list[tuple[str, int, int]]:
    # Words, not numbers, tell the lines apart (a number could pass for a page number).
    words = "eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf".split()
    return [
        (f"Rede {tag} {words[n % 12]} {words[n // 12]} und so weiter.", 10, 0) for n in range(count)
    ]


async def test_a_page_that_ends_short_ended_a_speech_and_a_full_one_did_not() -> None:
    pages = [
        [("EMILIA GALOTTI", 16, 0)],
        [("DER PRINZ.", 10, 0), *speech("a", FULL - 1)],  # full; the speech goes on
        [*speech("b", FULL - 2)],  # ends one line short: the speech ends here
        [("MARINELLI.", 10, 0), *speech("c", FULL - 1)],
        [("CLAUDIA.", 10, 0), *speech("d", FULL - 1)],
    ]
    text = (await extract(book(pages))).text
    assert f"{speech('a', FULL - 1)[-1][0]}\nRede b eins eins" in text
    assert f"{speech('b', FULL - 2)[-1][0]}\n\nMARINELLI." in text
    # A full page before a speaker's name: nothing shows that a speech ended there.
    assert f"{speech('c', FULL - 1)[-1][0]}\nCLAUDIA." in text


async def test_a_heading_in_larger_type_stands_apart_even_at_the_top_of_a_page() -> None:
    pages = [
        [("EMILIA GALOTTI", 16, 0)],
        [("DER PRINZ.", 10, 0), *speech("a", FULL - 1)],
        [("Zweiter Auftritt", 13, 0), ("MARINELLI.", 10, 0), *speech("b", FULL - 2)],
        [*speech("c", 10), ("Dritter Auftritt", 13, 0), ("CLAUDIA.", 10, 0), *speech("d", 10)],
    ]
    text = (await extract(book(pages))).text
    last = speech("a", FULL - 1)[-1][0]
    assert f"{last}\n\nZweiter Auftritt\n\nMARINELLI.\n" in text
    assert f"{speech('c', 10)[-1][0]}\n\nDritter Auftritt\n\nCLAUDIA.\n" in text


def test_depths_decide_where_a_page_break_breaks_the_text() -> None:
    def page(tag: str, count: int, top: float = 0.0) -> tuple[str, list[float | None]]:
        lines = [f"{tag} line {chr(97 + n)}" for n in range(count)]
        return "\n".join(lines), [top + n for n in range(count)]

    pages = [
        page("A", 30),
        page("B", 30),
        page("C", 29),  # ends a line short
        page("D", 30),
        page("E", 29, top=1.0),  # starts a line low
        page("F", 30),
    ]
    texts, depths = [text for text, _ in pages], [depth for _, depth in pages]
    text = join_pages(texts, depths)
    assert text.count("\n\n") == 2
    assert "C line }\n\nD line a" in text and "D line ~\n\nE line a" in text
    # Without depths nothing shows a break.
    assert "\n\n" not in join_pages(texts)
