"""What kind of document a byte string is, decided from its content alone."""

from __future__ import annotations

import io
import struct
import zipfile
from enum import StrEnum

from playparse.extraction.text import decode_text


class DocumentFormat(StrEnum):
    """The document formats playparse reads."""

    PDF = "pdf"
    DOCX = "docx"
    TXT = "txt"


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Office saves a password-protected .docx as an OLE file holding an "EncryptedPackage" stream.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# Formats that are never a play's text, though some of them (RTF, PostScript) would decode.
_BINARY_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"BM",  # bitmap; a text starting "BM" still passes when its next bytes are not a header
    b"II*\x00",  # TIFF
    b"MM\x00*",
    b"RIFF",  # WebP, WAV, AVI
    b"\x00\x00\x01\x00",  # icon
    b"\x1f\x8b",  # gzip
    b"BZh",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x28\xb5\x2f\xfd",  # zstd
    b"\x7fELF",
    b"MZ",  # Windows executable
    b"\xca\xfe\xba\xbe",  # Mach-O fat binary, Java class
    b"\xcf\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\x00asm",
    b"SQLite format 3\x00",
    b"{\\rtf",
    b"%!PS",
    b"ID3",  # MP3
    b"OggS",
    b"fLaC",
)


def detect_format(data: bytes) -> DocumentFormat | None:
    """Decide from the content alone whether bytes are a PDF, a DOCX or plain text.

    Binary signatures are checked first: `%PDF-` within the first 1024 bytes is a PDF, a ZIP
    holding `word/document.xml` (or an OLE file holding an encrypted Office package) is a DOCX,
    and any other ZIP, image, archive, executable or OLE file is rejected. Anything else is text
    only if it decodes cleanly (see `decode_text`). An empty file counts as (empty) text.

    Args:
        data: the whole file.

    Returns:
        The format, or None for anything that is not a PDF, DOCX or text file.
    """
    head = data[:1024]
    if b"%PDF-" in head:
        return DocumentFormat.PDF
    if head.startswith(_ZIP_MAGIC):
        return DocumentFormat.DOCX if _is_docx_zip(data) else None
    if head.startswith(_OLE_MAGIC):
        return DocumentFormat.DOCX if _ENCRYPTED_PACKAGE in data else None
    if head.startswith(_BINARY_MAGIC) and not _is_plain_bm(head):
        return None
    return DocumentFormat.TXT if decode_text(data) is not None else None


# A Word file's ZIP directory takes kilobytes (a hundred bytes or so per part). Reading one of
# megabytes costs seconds (a forged directory of 450,000 entries, 3.9 s); extraction refuses it.
MAX_ZIP_DIRECTORY_BYTES = 2 * 1024 * 1024
_END = b"PK\x05\x06"
_END64_LOCATOR = b"PK\x06\x07"
_END64 = b"PK\x06\x06"


def zip_directory_size(data: bytes) -> int | None:
    """The size of the central directory a ZIP declares, read as Python's zipfile reads it (the
    end record, or the ZIP64 one right before its locator); None if there is none to read."""
    end = data.rfind(_END, max(0, len(data) - 22 - 65_535))
    if end < 0 or len(data) < end + 22:
        return None
    size: int = struct.unpack_from("<L", data, end + 12)[0]
    locator = end - 20
    if size == 0xFFFFFFFF and locator >= 56 and data[locator : locator + 4] == _END64_LOCATOR:
        record = locator - 56
        if data[record : record + 4] == _END64:
            size = struct.unpack_from("<Q", data, record + 40)[0]
    return size


def _is_docx_zip(data: bytes) -> bool:
    # A cheap scan first: most ZIPs that are not Word files are rejected without parsing.
    if b"word/document.xml" not in data:
        return False
    size = zip_directory_size(data)
    if size is not None and size > MAX_ZIP_DIRECTORY_BYTES:
        # Named like a Word file; extraction says why it will not read it.
        return True
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.NameToInfo
    except (zipfile.BadZipFile, ValueError, EOFError):
        # The name is there but the directory is damaged: a truncated Word file, which
        # extraction reports as unreadable rather than as an unknown format.
        return True


def _is_plain_bm(head: bytes) -> bool:
    # "BM" and "MZ" are short enough to begin ordinary words ("BMW", "MZ-01"): a real bitmap or
    # executable has NUL bytes within its first few dozen bytes.
    return head.startswith((b"BM", b"MZ")) and b"\x00" not in head[:64]
