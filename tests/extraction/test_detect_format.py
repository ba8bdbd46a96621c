"""Format detection from content: each format, odd encodings and hostile bytes."""

from __future__ import annotations

import gzip
import io
import random
import time

import pytest
from PIL import Image

from playparse.extraction import DocumentFormat, detect_format
from playparse.extraction.text import decode_text
from tests.extraction.builders import encrypted_docx, play_docx, play_pdf, zip_with

GERMAN = "DER PRINZ.\nKlagen, nichts als Klagen! Größe, Übel, süß.\n" * 20
RUSSIAN = "ТРЕПЛЕВ.\nЭто мое. Новые формы нужны.\n" * 20


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_pdf_docx_and_text_are_recognised() -> None:
    assert detect_format(play_pdf(2)) is DocumentFormat.PDF
    assert detect_format(play_docx()) is DocumentFormat.DOCX
    assert detect_format(GERMAN.encode()) is DocumentFormat.TXT


def test_pdf_header_counts_within_the_first_kilobyte_only() -> None:
    assert detect_format(b"junk " * 100 + play_pdf(1)) is DocumentFormat.PDF
    late = b"some text " * 120 + b"%PDF-1.7 in a sentence"
    assert detect_format(late) is DocumentFormat.TXT


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("png", png()),
        ("jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(100)),
        ("gzip", gzip.compress(GERMAN.encode())),
        ("elf", b"\x7fELF\x02\x01\x01" + bytes(100)),
        ("exe", b"MZ\x90\x00\x03" + bytes(100)),
        ("random", random.Random(7).randbytes(100_000)),
        ("zip-not-docx", zip_with({"mimetype": b"application/epub+zip", "a.txt": b"hi"})),
        ("xlsx", zip_with({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>"})),
        ("ole-doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)),
        ("text-with-nul", GERMAN.encode()[:200] + b"\x00" + GERMAN.encode()),
        ("controls", bytes(range(1, 9)) * 50 + GERMAN.encode()),
        ("rtf", rb"{\rtf1\ansi Klagen, nichts als Klagen!}"),
    ],
)
def test_other_files_are_not_documents(name: str, data: bytes) -> None:
    assert detect_format(data) is None, name


def test_a_few_control_characters_are_tolerated() -> None:
    assert detect_format(GERMAN.encode() + b"\x1a") is DocumentFormat.TXT
    assert detect_format(b"BMW und MZ sind Marken.\n") is DocumentFormat.TXT


def test_password_protected_word_file_counts_as_docx() -> None:
    assert detect_format(encrypted_docx()) is DocumentFormat.DOCX


def test_empty_file_is_empty_text() -> None:
    assert detect_format(b"") is DocumentFormat.TXT


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (GERMAN.encode("utf-8"), "utf-8"),
        (GERMAN.encode("utf-8-sig"), "utf-8-sig"),
        (b"\xff\xfe" + GERMAN.encode("utf-16-le"), "utf-16-le"),
        (b"\xfe\xff" + GERMAN.encode("utf-16-be"), "utf-16-be"),
        (GERMAN.encode("utf-16-le"), "utf-16-le"),
        (GERMAN.encode("utf-16-be"), "utf-16-be"),
        (RUSSIAN.encode("utf-16-le"), "utf-16-le"),
        (GERMAN.encode("utf-32"), "utf-32-le"),
        (GERMAN.encode("cp1252"), "cp1252"),
        (("„Größe“ – 5 €\n" + GERMAN).encode("cp1252"), "cp1252"),
        (RUSSIAN.encode("cp1251"), "cp1251"),
    ],
)
def test_text_encodings_are_detected_and_decoded(data: bytes, encoding: str) -> None:
    assert detect_format(data) is DocumentFormat.TXT
    decoded = decode_text(data)
    assert decoded is not None
    text, found = decoded
    assert found == encoding
    assert "Größe" in text or "Новые формы" in text
    assert not text.startswith("\ufeff")


def test_utf8_cut_inside_its_last_character_is_still_utf8() -> None:
    assert decode_text("Größe ü".encode()[:-1]) == ("Größe ", "utf-8")


def test_a_stray_byte_cp1252_lacks_does_not_stop_a_text() -> None:
    decoded = decode_text(GERMAN.encode("cp1252") + b"\x81")
    assert decoded is not None and decoded[1] == "cp1252"


def test_detection_of_20_mb_is_fast() -> None:
    samples = {
        "utf-8": ("Größe " + GERMAN).encode() * (20_000_000 // len(GERMAN.encode())),
        "cp1252": GERMAN.encode("cp1252") * (20_000_000 // len(GERMAN)),
        "utf-16": GERMAN.encode("utf-16") * (10_000_000 // len(GERMAN)),
        "binary": random.Random(1).randbytes(20_000_000),
    }
    for name, data in samples.items():
        started = time.perf_counter()
        detect_format(data)
        elapsed = time.perf_counter() - started
        assert elapsed < 1.0, f"{name}: {elapsed:.2f} s"
