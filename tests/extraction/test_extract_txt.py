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


RUSSIAN = (
    "МАША. Сегодня вечером на озере будут играть пьесу, и все уже собрались в саду. "
    "ДОКТОР. Я слышал, что декорации поставили ещё утром, когда никого не было дома. "
) * 4
HEBREW = "המלט. להיות או לא להיות, זאת השאלה: האם נאצל יותר לסבול בנפש את חיצי הגורל. " * 8
GREEK = "ΑΜΛΕΤ. Να ζει κανείς ή να μη ζει, αυτό είναι το ερώτημα· τι είναι πιο ευγενικό. " * 8


@pytest.mark.parametrize(("text", "encoding"), [(HEBREW, "cp1255"), (GREEK, "cp1253")])
async def test_a_legacy_code_page_that_is_not_cyrillic_is_refused_not_garbled(
    text: str, encoding: str
) -> None:
    with pytest.raises(UnsupportedDocument) as caught:
        await extract(text.encode(encoding))
    assert "Save it as UTF-8" in caught.value.message


async def test_cyrillic_in_cp1251_is_read() -> None:
    extracted = await extract(RUSSIAN.encode("cp1251"))
    assert extracted.encoding == "cp1251"
    assert extracted.text == RUSSIAN.rstrip()
