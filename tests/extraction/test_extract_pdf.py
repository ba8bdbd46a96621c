"""PDF extraction end to end, through the sandbox process."""

from __future__ import annotations

import pytest

from playparse.extraction import DocumentFormat, extract
from playparse.extraction.errors import EncryptedDocument, NoTextFound, UnreadableDocument
from tests.extraction.builders import HEADERS, encrypted_pdf, play_pdf, raw_pdf, scanned_pdf


async def test_a_printed_play_comes_out_as_a_reader_sees_it() -> None:
    extracted = await extract(play_pdf(30))
    assert extracted.format is DocumentFormat.PDF
    assert extracted.pages is not None and extracted.pages >= 4
    assert extracted.encoding is None
    lines = extracted.text.split("\n")
    # Title page kept; running headers and page numbers gone from every page.
    assert lines[0].strip() == "EMILIA GALOTTI"
    assert not any(line.strip() in HEADERS for line in lines)
    assert not any(line.strip().startswith("- ") and line.strip().endswith(" -") for line in lines)
    # The hyphenated word is whole and the rest of its line stays on the next one.
    assert "Bitt-" not in extracted.text
    assert lines.count("        Klagen, nichts als Klagen! Die Bittschriften,") == 30
    assert lines.count("        nichts als Bittschriften! - Die") == 30
    # Speakers at the margin, directions and speeches indented, a blank line between speeches.
    assert lines.count("DER PRINZ.") == 15 and lines.count("MARINELLI.") == 15
    assert "\n\nMARINELLI.\n        [an einem Arbeitstische.]\n        Klagen" in extracted.text
    assert "traurigen Geschäfte" in extracted.text


async def test_pages_of_nothing_but_indented_lines_keep_their_indentation() -> None:
    extracted = await extract(play_pdf(2, monologue=120))
    lines = extracted.text.split("\n")
    indent = next(line for line in lines if "[an einem" in line).index("[")
    monologue = [line for line in lines if "So weiter" in line]
    assert len(monologue) == 120 and indent > 0
    assert all(line.startswith(" " * indent + "So weiter") for line in monologue)


async def test_a_pdf_with_an_empty_user_password_is_read() -> None:
    extracted = await extract(encrypted_pdf(user_password=""))
    assert "Bittschriften" in extracted.text


async def test_a_password_protected_pdf_is_refused_as_such() -> None:
    with pytest.raises(EncryptedDocument) as caught:
        await extract(encrypted_pdf(user_password="secret"))
    assert caught.value.type == "EncryptedDocument"
    assert "password-protected" in caught.value.message
    assert caught.value.format == "pdf"


async def test_a_truncated_pdf_is_unreadable() -> None:
    data = play_pdf(30)
    with pytest.raises(UnreadableDocument) as caught:
        await extract(data[: len(data) // 2], fmt=DocumentFormat.PDF)
    assert caught.value.type == "UnreadableDocument"
    assert caught.value.message.startswith("The PDF file could not be read")


async def test_garbage_after_a_pdf_header_is_unreadable() -> None:
    with pytest.raises(UnreadableDocument):
        await extract(b"%PDF-1.7\n" + b"\x00garbage" * 100)


async def test_a_scan_without_a_text_layer_asks_for_ocr() -> None:
    with pytest.raises(NoTextFound) as caught:
        await extract(scanned_pdf())
    assert caught.value.type == "NoTextFound"
    assert "no text layer" in caught.value.message and "OCR" in caught.value.message


async def test_a_page_whose_text_is_drawn_rotated_is_read_not_dropped() -> None:
    """Layout modes leave rotated text out; such a page is read in pypdf's plain mode."""
    content = b"BT /F1 12 Tf 0 1 -1 0 300 100 Tm (HAMLET. To be, or not to be.) Tj ET"
    extracted = await extract(raw_pdf(content), fmt=DocumentFormat.PDF)
    assert "HAMLET. To be, or not to be." in extracted.text
