"""Joining page texts: running headers, page numbers and hyphenation."""

from __future__ import annotations

from playparse.extraction.pages import join_pages


def page(number: int, *body: str, header: str | None = None) -> str:
    top = [header] if header else []
    return "\n".join([*top, *body, "", f"   {number}"])


def test_running_headers_and_page_numbers_are_removed() -> None:
    # Author and title alternate on facing pages; the title page has neither.
    pages = [page(1, "EMILIA GALOTTI")] + [
        page(i + 1, f"speech {i}", header="Lessing" if i % 2 else "Emilia Galotti")
        for i in range(1, 7)
    ]
    assert join_pages(pages) == "\n".join(["EMILIA GALOTTI"] + [f"speech {i}" for i in range(1, 7)])


def test_a_number_beside_the_running_title_goes_with_it() -> None:
    pages = [
        f"{i + 10}    EMILIA GALOTTI\nACT {i}. SCENE 1.\nspeech {chr(96 + i)}" for i in range(1, 6)
    ]
    expected = "\n".join(f"ACT {i}. SCENE 1.\nspeech {chr(96 + i)}" for i in range(1, 6))
    assert join_pages(["Title", *pages]) == "Title\n" + expected


def test_a_title_page_keeps_a_title_that_is_also_the_header() -> None:
    pages = ["Emilia Galotti\n\nEin Trauerspiel"] + [
        page(i + 1, f"speech {i}", header="Emilia Galotti") for i in range(1, 5)
    ]
    assert join_pages(pages).startswith("Emilia Galotti\n\nEin Trauerspiel\nspeech 1")


def test_labelled_page_numbers_go_bare_numbers_only_when_they_count_pages() -> None:
    assert join_pages(["Page 1 of 2\ntext", "text\nSeite 2"]) == "text\ntext"
    # A lone "3" at the top of one page is a scene number, not a page number.
    assert join_pages(["3\nDritter Auftritt", "more"]) == "3\nDritter Auftritt\nmore"


def test_a_line_at_the_top_of_a_few_pages_is_not_a_header() -> None:
    pages = [("ORSINA.\n" if i in (2, 7) else "") + f"speech {i}" for i in range(10)]
    assert join_pages(pages).count("ORSINA.") == 2


def test_hyphenated_words_are_joined_within_and_across_pages() -> None:
    text = join_pages(["Klagen! Die Bitt-\n    schriften, nichts", "als Ge-", "schäfte."])
    assert text == "Klagen! Die Bittschriften,\n    nichts\nals Geschäfte."


def test_hyphens_before_capitals_and_dashes_stay() -> None:
    text = "Nord-\nSüd\nwarte -\nnein\nSo--\nweiter"
    assert join_pages([text]) == text


def test_long_runs_of_blank_lines_are_shortened() -> None:
    assert join_pages(["a\n\n\n\n\nb"]) == "a\n\n\nb"
