"""Bytes to text for PDF, DOCX and plain text, with size, time and memory limits.

`detect_format` decides what a file is from its content; `extract` turns it into normalised
text, parsing PDF and DOCX in a separate, resource-limited process (see `sandbox`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from playparse.extraction.detect import DocumentFormat, detect_format
from playparse.extraction.errors import DocumentTooLarge, EmptyDocument, UnsupportedDocument
from playparse.extraction.normalise import normalise_text
from playparse.extraction.sandbox import run_sandboxed
from playparse.extraction.text import decode_text, reads_as_cyrillic

__all__ = ["DocumentFormat", "Extracted", "detect_format", "extract", "normalise_text"]

# No format is read past this size (the API's upload limit is lower).
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
# Text below this size is decoded on the event loop; larger text in a thread.
_INLINE_TEXT_BYTES = 256 * 1024


@dataclass(frozen=True)
class Extracted:
    """A document's text, ready to store and parse."""

    text: str
    format: DocumentFormat
    pages: int | None
    encoding: str | None


async def extract(
    data: bytes,
    *,
    fmt: DocumentFormat | None = None,
    timeout_s: float = 60.0,
    memory_mb: int = 1024,
    processes: asyncio.Semaphore | None = None,
) -> Extracted:
    """Turn a document's bytes into normalised text without blocking the event loop.

    PDF and DOCX are parsed in a child process limited to `memory_mb` of address space and
    `timeout_s` of wall-clock (and CPU) time; plain text is decoded in this process.

    Args:
        data: the whole file.
        fmt: the format if already known; detected from the content when None.
        timeout_s: time allowed for parsing one PDF or DOCX.
        memory_mb: memory allowed for parsing one PDF or DOCX.
        processes: held while a PDF or DOCX is parsed, so that the caller bounds how many
            child processes (and how much memory) its extractions take at once; the wait for
            it is not part of `timeout_s`.

    Returns:
        The normalised text, the format, the page count (PDF only) and the encoding (text only).

    Raises:
        DocumentError: a subclass from `playparse.extraction.errors` saying why the file cannot
            become text; none is worth a retry.
        RuntimeError: the parser process failed for a reason unrelated to the document.
    """
    if not data:
        raise EmptyDocument()
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(
            f"The file is {len(data) / 2**20:,.0f} MB, more than the "
            f"{MAX_DOCUMENT_BYTES / 2**20:,.0f} MB that can be read."
        )
    if fmt is not None:
        fmt = DocumentFormat(fmt)  # a stored "pdf" works as well as DocumentFormat.PDF
    else:
        fmt = (
            detect_format(data)
            if len(data) <= _INLINE_TEXT_BYTES
            else await asyncio.to_thread(detect_format, data)
        )
        if fmt is None:
            raise UnsupportedDocument()
    if fmt is DocumentFormat.TXT:
        if len(data) <= _INLINE_TEXT_BYTES:
            text, encoding = _decode(data)
        else:
            text, encoding = await asyncio.to_thread(_decode, data)
        pages = None
    else:
        async with processes or contextlib.nullcontext():
            text, pages = await run_sandboxed(
                data, fmt.value, timeout_s=timeout_s, memory_mb=memory_mb
            )
        encoding = None
    if not text.strip():
        raise EmptyDocument("The file contains no text, only whitespace.")
    return Extracted(text=text, format=fmt, pages=pages, encoding=encoding)


def _decode(data: bytes) -> tuple[str, str]:
    decoded = decode_text(data)
    if decoded is None:
        raise UnsupportedDocument()
    text, encoding = decoded
    if encoding == "cp1251" and not reads_as_cyrillic(text):
        raise UnsupportedDocument(
            "The text file's encoding could not be told: it is not UTF-8, and read as Cyrillic "
            "(cp1251) it makes no sense (a Hebrew, Greek or Arabic code page?). Save it as "
            "UTF-8 and upload it again."
        )
    return normalise_text(text), encoding
