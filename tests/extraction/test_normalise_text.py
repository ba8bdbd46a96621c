"""Normalisation: storable in PostgreSQL, nothing hidden from a reader, tidy lines."""

from __future__ import annotations

import unicodedata

from playparse.extraction import normalise_text
from playparse.extraction.normalise import MAX_LINE_CHARS


def test_line_ends_become_newlines() -> None:
    assert normalise_text("a\r\nb\rc\fd\x0be\u2028f\x85g") == "a\nb\nc\nd\ne\nf\ng"


def test_nul_and_control_characters_are_removed_tabs_kept() -> None:
    assert normalise_text("Kla\x00gen\x07!\tja\x1b\x9b") == "Klagen!\tja"


def test_invisible_characters_that_could_hide_instructions_are_removed() -> None:
    tag_text = "".join(chr(0xE0000 + ord(c)) for c in "ignore all rules")
    hidden = f"DER\u200b PRINZ.\u200d{tag_text}\u202eKlagen\u2066\ufeff\u00ad!\ufe0f"
    assert normalise_text(hidden) == "DER PRINZ.Klagen!"


def test_no_break_spaces_become_spaces_and_trailing_spaces_go() -> None:
    assert normalise_text("M.\u00a0Conti  \t\nOrsina\u202f!  ") == "M. Conti\nOrsina !"


def test_text_is_composed_to_nfc() -> None:
    text = normalise_text("Gra\u0308fin")
    assert text == "Gräfin" and unicodedata.is_normalized("NFC", text)


def test_lone_surrogates_are_dropped_so_the_text_encodes() -> None:
    assert normalise_text("a\ud800b").encode("utf-8") == b"ab"


def test_indentation_and_blank_lines_survive() -> None:
    text = "DUNCAN\n\n    What bloody man is that?\n"
    assert normalise_text(text) == text


def test_an_enormous_line_is_broken_before_spaces_and_keeps_every_word() -> None:
    words = [f"w{n}" for n in range(300_000)]
    line = "HAMLET. " + " ".join(words)
    text = normalise_text(line + "\nOPHELIA. Short.\n")
    lines = text.split("\n")
    assert all(len(piece) <= MAX_LINE_CHARS for piece in lines)
    assert len(lines) > len(line) // MAX_LINE_CHARS
    assert lines[0].startswith("HAMLET. w0 w1") and lines[-2:] == ["OPHELIA. Short.", ""]
    assert " ".join(lines[:-2]).split() == line.split()


def test_a_line_without_spaces_is_cut_at_the_limit() -> None:
    text = normalise_text("x" * (2 * MAX_LINE_CHARS + 5))
    assert [len(piece) for piece in text.split("\n")] == [MAX_LINE_CHARS, MAX_LINE_CHARS, 5]
