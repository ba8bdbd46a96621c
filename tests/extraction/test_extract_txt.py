"""Plain text extraction: encodings, normalisation and empty files."""

from __future__ import annotations

import pytest

from playparse.extraction import DocumentFormat, extract
from playparse.extraction.errors import EmptyDocument, UnsupportedDocument

PLAY = "DER PRINZ.\r\n    [an einem Arbeitstische.]\r\nKlagen!\u200b Größe\u00a0 \r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (PLAY.encode("utf-8-sig"), "utf-8-sig"),
        (PLAY.encode("utf-16"), "utf-16-le"),
        (PLAY.encode("utf-16-be"), "utf-16-be"),
        (PLAY.replace("\u200b", "").encode("cp1252"), "cp1252"),
    ],
)
async def test_text_is_decoded_and_normalised(data: bytes, encoding: str) -> None:
    extracted = await extract(data)
    assert extracted == type(extracted)(
        text="DER PRINZ.\n    [an einem Arbeitstische.]\nKlagen! Größe\n",
        format=DocumentFormat.TXT,
        pages=None,
        encoding=encoding,
    )


async def test_a_large_text_is_decoded_off_the_event_loop() -> None:
    extracted = await extract(PLAY.encode() * 20_000)
    assert extracted.text.count("DER PRINZ.") == 20_000


@pytest.mark.parametrize("data", [b"", b"  \r\n\t\n", "\u200b\u00a0\n".encode()])
async def test_empty_or_blank_text_is_an_empty_document(data: bytes) -> None:
    with pytest.raises(EmptyDocument) as caught:
        await extract(data)
    assert caught.value.type == "EmptyDocument"
    assert caught.value.message.startswith("The file")


async def test_binary_data_is_unsupported() -> None:
    with pytest.raises(UnsupportedDocument) as caught:
        await extract(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert caught.value.message == "The file is not a PDF, DOCX or text file."
    with pytest.raises(UnsupportedDocument):
        await extract(b"\x00\x01\x02" * 10, fmt=DocumentFormat.TXT)
