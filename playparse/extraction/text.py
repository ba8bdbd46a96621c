"""Plain text: which encoding the bytes are in, and whether they are text at all."""

from __future__ import annotations

import codecs
import re

# Byte order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Text may hold at most this share of control characters other than \t \n \r \f.
MAX_CONTROL_RATIO = 0.01
# Enough of a UTF-16 file to see its NUL pattern; the whole file is still decoded afterwards.
_UTF16_SAMPLE = 64 * 1024

_C0_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f") + b"\x7f"
_UTF8_C1 = re.compile(rb"\xc2[\x80-\x9f]")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# The five bytes cp1252 leaves undefined decode as the C1 controls latin-1 gives them (as
# browsers do), so one stray byte does not stop a cp1252 file from being read.
_CP1252_HOLES = b"\x81\x8d\x8f\x90\x9d"
_CP1252_FALLBACK = "playparse-cp1252-holes"
_HIGH_LETTERS = bytes(range(0xC0, 0x100))
_ASCII_LETTERS = bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B))


def _latin1_for_holes(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(_CP1252_FALLBACK, _latin1_for_holes)


def decode_text(data: bytes) -> tuple[str, str] | None:
    """Decode bytes that are plain text, finding their encoding from the content.

    UTF-8 (with or without BOM), UTF-16 and UTF-32 with a BOM, UTF-16 without a BOM (seen from
    its NUL bytes), else a single-byte encoding: cp1251 when high letters outnumber ASCII ones
    (Cyrillic), cp1252 otherwise.

    Args:
        data: the whole file.

    Returns:
        The text with any BOM removed and the encoding's name, or None when the bytes are not
        text: they do not decode, hold NUL characters, or more than 1% control characters.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_wide(data[len(bom) :], encoding, bom=True)
    wide = _utf16_without_bom(data)
    if wide is not None:
        return _decode_wide(data, wide, bom=False)
    if b"\x00" in data:
        return None
    c0 = len(data) - len(data.translate(None, _C0_BYTES))
    text = _utf8(data)
    if text is not None:
        controls = c0 + len(_UTF8_C1.findall(data))
        return (text, "utf-8") if _few(controls, len(text)) else None
    holes = len(data) - len(data.translate(None, _CP1252_HOLES))
    high = len(data) - len(data.translate(None, _HIGH_LETTERS))
    ascii_letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    if high > ascii_letters:
        # cp1251 has a single hole (0x98); everything else is a letter or a sign.
        encoding, holes = "cp1251", data.count(b"\x98")
    else:
        encoding = "cp1252"
    if not _few(c0 + holes, len(data)):
        return None
    return data.decode(encoding, errors=_CP1252_FALLBACK), encoding


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        # A file cut short inside its last character is still UTF-8, not cp1252 mojibake.
        if error.reason == "unexpected end of data" and error.start >= len(data) - 3:
            try:
                return data[: error.start].decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None


def _few(controls: int, length: int) -> bool:
    return controls <= length * MAX_CONTROL_RATIO


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[: _UTF16_SAMPLE - _UTF16_SAMPLE % 2]
    half = len(sample) // 2
    if half < 2:
        return None
    even, odd = sample[0::2].count(0) / half, sample[1::2].count(0) / half
    # ASCII letters, spaces and punctuation have a NUL high byte; even Cyrillic or Greek text
    # has spaces and newlines enough to show the pattern.
    if odd >= 0.1 and even <= 0.01:
        return "utf-16-le"
    if even >= 0.1 and odd <= 0.01:
        return "utf-16-be"
    return None


def _decode_wide(data: bytes, encoding: str, *, bom: bool) -> tuple[str, str] | None:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    if "\x00" in text or not _few(len(_CONTROL_CHARS.findall(text)), len(text)):
        return None
    if bom and encoding == "utf-8":
        encoding = "utf-8-sig"
    return text, encoding


# Vowels among the letters of text read as cp1251: about 0.42 in Russian (0.43 in the shared
# Chekhov play), Ukrainian and Serbian alike; Hebrew, Greek and Arabic single-byte files read
# as cp1251 give 0.20–0.30, letters in the wrong places. Below a few hundred letters there is
# too little to tell.
_CYRILLIC_LETTER = re.compile("[а-яёіїєА-ЯЁІЇЄ]")
_CYRILLIC_VOWELS = frozenset("аеёиоуыэюяіїєАЕЁИОУЫЭЮЯІЇЄ")
MIN_CYRILLIC_VOWELS = 0.35
_LETTERS_TO_TELL = 300


def reads_as_cyrillic(text: str) -> bool:
    """Whether text decoded as cp1251 looks like a Cyrillic language rather than mojibake."""
    letters = _CYRILLIC_LETTER.findall(text)
    if len(letters) < _LETTERS_TO_TELL:
        return True
    vowels = sum(1 for letter in letters if letter in _CYRILLIC_VOWELS)
    return vowels >= MIN_CYRILLIC_VOWELS * len(letters)
