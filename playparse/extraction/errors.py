"""Typed errors for documents that cannot become text; every one is final, none is retried.

DocumentError                   (playparse.errors)
├── UnsupportedDocument         not a PDF, DOCX or text file (the API answers 415)
├── EmptyDocument               zero bytes, or nothing but whitespace
├── EncryptedDocument           password-protected PDF or Word file
├── UnreadableDocument          damaged or truncated file of a known format
├── NoTextFound                 no text layer (a scanned PDF, for example)
├── ExtractionLimitExceeded     reading took too long or needed too much memory
└── DocumentTooLarge            too big to unpack safely (a DOCX zip bomb, for example)
"""

from __future__ import annotations

from typing import Literal

from playparse.errors import DocumentError

__all__ = [
    "DocumentTooLarge",
    "EmptyDocument",
    "EncryptedDocument",
    "ExtractionLimitExceeded",
    "NoTextFound",
    "UnreadableDocument",
    "UnsupportedDocument",
]


def _label(fmt: str) -> str:
    return {"pdf": "PDF", "docx": "Word (DOCX)", "txt": "text"}.get(fmt, fmt)


class UnsupportedDocument(DocumentError):
    """The bytes are neither a PDF, a DOCX nor plain text."""

    type = "UnsupportedDocument"

    def __init__(self, message: str = "The file is not a PDF, DOCX or text file.") -> None:
        super().__init__(message)


class EmptyDocument(DocumentError):
    """The file has no bytes, or only whitespace."""

    type = "EmptyDocument"

    def __init__(self, message: str = "The file is empty.") -> None:
        super().__init__(message)


class EncryptedDocument(DocumentError):
    """The file is password-protected, so its text cannot be read."""

    type = "EncryptedDocument"

    def __init__(self, fmt: str, message: str | None = None) -> None:
        super().__init__(
            message
            or f"The {_label(fmt)} file is password-protected; "
            "remove the password and upload it again."
        )
        self.format = fmt


class UnreadableDocument(DocumentError):
    """The file claims a known format but is damaged or truncated."""

    type = "UnreadableDocument"

    def __init__(self, fmt: str, detail: str | None = None) -> None:
        message = f"The {_label(fmt)} file could not be read; it may be damaged or incomplete."
        if detail:
            message += f" Details: {detail}"
        super().__init__(message)
        self.format = fmt
        self.detail = detail


class NoTextFound(DocumentError):
    """The document holds no text that can be extracted."""

    type = "NoTextFound"

    def __init__(self, message: str | None = None, *, fmt: str | None = None) -> None:
        if message is None:
            message = (
                "The PDF has no text layer (its pages look like scanned images); "
                "run it through OCR and upload the result."
                if fmt == "pdf"
                else "The file contains no text."
            )
        super().__init__(message)
        self.format = fmt


class ExtractionLimitExceeded(DocumentError):
    """Reading the document hit the time or memory limit for one document."""

    type = "ExtractionLimitExceeded"

    def __init__(self, fmt: str, *, limit: Literal["time", "memory"], value: float) -> None:
        if limit == "time":
            message = (
                f"Reading the {_label(fmt)} file took longer than {value:g} s, "
                "the limit for one document."
            )
        else:
            message = (
                f"Reading the {_label(fmt)} file needed more than {value:g} MB of memory, "
                "the limit for one document."
            )
        super().__init__(message)
        self.format = fmt
        self.limit = limit
        self.value = value


class DocumentTooLarge(DocumentError):
    """The document would unpack to more than is safe to read."""

    type = "DocumentTooLarge"

    def __init__(self, message: str) -> None:
        super().__init__(message)
