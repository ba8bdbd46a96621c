"""DOCX extraction end to end: play structure, directions in italics, hostile archives."""

from __future__ import annotations

import pytest

from playparse.extraction import DocumentFormat, extract
from playparse.extraction.detect import detect_format, zip_directory_size
from playparse.extraction.errors import DocumentTooLarge, EncryptedDocument, UnreadableDocument
from tests.extraction.builders import (
    bomb_docx_by_declared_size,
    bomb_docx_by_ratio,
    docx_with_a_vast_directory,
    encrypted_docx,
    play_docx,
    zip_with,
)


async def test_a_play_keeps_speakers_speeches_directions_and_tables() -> None:
    extracted = await extract(play_docx())
    assert extracted.format is DocumentFormat.DOCX
    assert extracted.pages is None and extracted.encoding is None
    paragraphs = [line for line in extracted.text.split("\n") if line]
    assert paragraphs == [
        "Erster Aufzug",
        "DER PRINZ.",
        "[an einem Arbeitstische, voller Briefschaften.]",  # wholly italic: a direction
        "Klagen, nichts als Klagen!",
        "DER KAMMERDIENER.",
        "Nein. Er geht ab.",  # italic only in part: left alone
        "[Er kommt zurück.]",  # italic through its paragraph style
        "(Er lieset.)",  # already in parentheses: not bracketed twice
        "MARINELLI.",
        "Gnädiger Herr!",
        "DER PRINZ.",
        "Guten Morgen.",
        "ENDE",
    ]
    # Word's default spacing after paragraphs shows as blank lines; a table row's speaker and
    # speech stay together.
    assert "DER PRINZ.\n\n[an einem" in extracted.text
    assert "MARINELLI.\nGnädiger Herr!\n\nDER PRINZ.\nGuten Morgen." in extracted.text


async def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    data = bomb_docx_by_ratio()
    assert len(data) < 100_000
    with pytest.raises(DocumentTooLarge) as caught:
        await extract(data)
    assert caught.value.type == "DocumentTooLarge"
    assert "zip bomb" in caught.value.message and "word/document.xml" in caught.value.message


async def test_a_declared_size_over_the_limit_is_refused() -> None:
    with pytest.raises(DocumentTooLarge) as caught:
        await extract(bomb_docx_by_declared_size())
    assert "3,073 MB" in caught.value.message


@pytest.mark.parametrize("zip64", [False, True], ids=["zip", "zip64"])
async def test_a_vast_zip_directory_is_refused_without_being_read(zip64: bool) -> None:
    data = docx_with_a_vast_directory(zip64=zip64)
    assert zip_directory_size(data) == 46 + 17 + 50_000 * 46
    # Taken for a Word file on its name alone (reading it cost the API seconds), then refused.
    assert detect_format(data) is DocumentFormat.DOCX
    with pytest.raises(DocumentTooLarge) as caught:
        await extract(data)
    assert "list of parts takes 2.2 MB" in caught.value.message


def test_a_word_files_directory_is_read_as_zipfile_reads_it() -> None:
    assert (
        zip_directory_size(play_docx()) == len(play_docx()) - play_docx().find(b"PK\x01\x02") - 22
    )
    assert zip_directory_size(b"PK\x03\x04 no end record") is None


async def test_a_password_protected_word_file_is_refused_as_such() -> None:
    with pytest.raises(EncryptedDocument) as caught:
        await extract(encrypted_docx())
    assert caught.value.message.startswith("The Word (DOCX) file is password-protected")


async def test_a_truncated_docx_is_unreadable() -> None:
    data = play_docx()
    with pytest.raises(UnreadableDocument) as caught:
        await extract(data[: len(data) - 2000])
    assert caught.value.message.startswith("The Word (DOCX) file could not be read")


async def test_a_zip_with_a_broken_document_part_is_unreadable() -> None:
    data = zip_with({"[Content_Types].xml": b"<Types", "word/document.xml": b"<w:document"})
    with pytest.raises(UnreadableDocument):
        await extract(data, fmt=DocumentFormat.DOCX)
