"""PDF to text with pypdf, keeping each line's indentation; runs inside the sandbox process."""

from __future__ import annotations

import io
import logging
import math
import statistics
from typing import Any, Literal

from playparse.extraction.errors import (
    EmptyDocument,
    EncryptedDocument,
    NoTextFound,
    UnreadableDocument,
)
from playparse.extraction.pages import join_pages
from playparse.extraction.pdf_lines import line_key, line_pitch, page_lines, text_size

# pypdf's layout mode scales the average glyph width by this to get one column (its default).
_SCALE_WEIGHT = 1.25
# The margin is where at least this many lines, and this share of all lines, start (within a
# tolerance in points), so that one caption set further left does not shift a whole book.
_MARGIN_LINES = 3
_MARGIN_SHARE = 0.02
_MARGIN_TOLERANCE = 2.0


def pdf_to_text(data: bytes) -> tuple[str, int]:
    """Extract a PDF's text in reading order with running headers and page numbers removed.

    Args:
        data: the PDF file.

    Returns:
        The text (not yet normalised) and the number of pages.

    Raises:
        EncryptedDocument: the PDF needs a password to open.
        UnreadableDocument: the PDF is damaged or truncated.
        EmptyDocument: the PDF has no pages.
        NoTextFound: the pages carry no text layer (scanned images, for example).
    """
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    # pypdf reports recoverable damage through logging; a hostile file can log millions of lines.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                # Many PDFs carry only an owner password (printing or copying restrictions)
                # and open with an empty user password.
                opened = bool(reader.decrypt(""))
            except (DependencyError, NotImplementedError) as error:
                # AES needs a cryptography library that is not installed here.
                raise EncryptedDocument(
                    "pdf",
                    "The PDF file is encrypted in a way this service cannot open; "
                    "remove the protection (print it to a new PDF) and upload it again.",
                ) from error
            except PdfReadError:
                opened = False
            if not opened:
                raise EncryptedDocument("pdf")
        pages = list(reader.pages)
    except (EncryptedDocument, MemoryError, RecursionError):
        raise
    except Exception as error:  # pypdf raises many kinds on damaged input
        raise UnreadableDocument("pdf", _describe(error)) from error
    if not pages:
        raise EmptyDocument("The PDF has no pages.")
    texts, depths = _layout_texts(pages)
    text = join_pages(texts, depths)
    if not any(character.isalpha() for character in text):
        raise NoTextFound(fmt="pdf")
    return text, len(pages)


def _describe(error: Exception) -> str:
    message = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
    return message or type(error).__name__


def _layout_texts(pages: list[Any]) -> tuple[list[str], list[list[float | None] | None]]:
    """Each page as fixed-width text whose indentation is measured from the document's margin.

    pypdf's layout mode measures indentation from the leftmost text on each page, so a page
    that holds only indented lines (a long speech in a layout that indents speeches) loses it.
    The runs are collected here as pypdf does, and aligned on the margin of all pages of the
    same parity instead (books mirror their margins). pypdf's public layout mode, then its
    plain mode, stand in for any page this cannot handle.

    Returns:
        The pages' texts, and the depth of each of their lines on the page (see `PageLines`),
        None for a page read by pypdf's own modes.
    """
    runs: list[list[dict[str, Any]] | None] = []
    for page in pages:
        try:
            runs.append(_text_runs(page))
        except (MemoryError, RecursionError):
            raise
        except Exception:
            runs.append(None)
    widths = [_char_width(page_runs) for page_runs in runs if page_runs]
    char_width = statistics.median(widths) if widths else 0.0
    size, pitch = text_size(runs), line_pitch(runs)
    margins = _margins(runs)
    texts: list[str] = []
    depths: list[list[float | None] | None] = []
    for number, (page, page_runs) in enumerate(zip(pages, runs, strict=True), start=1):
        margin = margins[(number - 1) % 2]
        if margin is None:
            margin = margins[number % 2]
        # A page without upright runs (text drawn rotated, which layout modes leave out) is
        # read by pypdf's own modes, the plain one keeping rotated text.
        if page_runs and char_width > 0:
            if margin is None:
                margin = min((run["tx"] for run in page_runs), default=0.0)
            try:
                laid_out = page_lines(page_runs, margin, char_width, size, pitch)
            except (MemoryError, RecursionError):
                raise
            except Exception:
                pass
            else:
                texts.append("\n".join(laid_out.lines))
                depths.append(laid_out.depths)
                continue
        texts.append(_fallback_text(page, number))
        depths.append(None)
    return texts, depths


def _margins(runs: list[list[dict[str, Any]] | None]) -> tuple[float | None, float | None]:
    """The left margin of odd and of even pages.

    A margin is the leftmost x at which a fair number of lines start (a stray caption further
    left does not count). When one parity's pages hold only indented lines, its "margin" is an
    indentation the other parity shows beside its own margin; then both share that margin.
    """
    columns = [_columns(runs[parity::2]) for parity in (0, 1)]
    margins: list[float | None] = [found[0] if found else None for found in columns]
    for parity in (0, 1):
        mine, other = margins[parity], columns[1 - parity]
        if (
            mine is not None
            and len(other) > 1
            and other[0] < mine
            and any(abs(mine - column) <= _MARGIN_TOLERANCE for column in other[1:])
        ):
            margins[parity] = other[0]
    return margins[0], margins[1]


def _columns(pages: list[list[dict[str, Any]] | None]) -> list[float]:
    """The x positions, left to right, where a fair number of these pages' lines start."""
    starts: dict[tuple[int, int], list[Any]] = {}
    for index, page_runs in enumerate(pages):
        for run in page_runs or []:
            start = starts.setdefault((index, line_key(run)), [run["tx"], ""])
            start[0] = min(start[0], run["tx"])
            start[1] += run["text"]
    # Page numbers are often set apart from the text block.
    xs = sorted(x for x, text in starts.values() if text.strip() and not text.strip().isdigit())
    if not xs:
        return []
    needed = min(len(xs), max(_MARGIN_LINES, math.ceil(len(xs) * _MARGIN_SHARE)))
    columns: list[float] = []
    first = 0
    for last, x in enumerate(xs):
        while x - xs[first] > _MARGIN_TOLERANCE:
            first += 1
        if last - first + 1 >= needed and (
            not columns or xs[first] - columns[-1] > _MARGIN_TOLERANCE
        ):
            columns.append(float(xs[first]))
    return columns or [float(xs[0])]


def _text_runs(page: Any) -> list[dict[str, Any]]:
    # pypdf internals (the pieces of PageObject._layout_mode_text); pinned by uv.lock, and any
    # change in them falls back to the public layout mode page by page.
    from pypdf._text_extraction._layout_mode._fixed_width_page import (
        TextStateManager,
        recurse_to_target_op,
        set_font_operation,
    )
    from pypdf.generic import ArrayObject, ContentStream, StreamObject

    contents = page.get("/Contents")
    if contents is not None:
        contents = contents.get_object()
    if not isinstance(contents, ArrayObject | StreamObject):
        return []
    fonts = page._layout_mode_fonts()
    operations = iter(ContentStream(contents, page.pdf, "bytes").operations)
    state = TextStateManager()
    runs: list[dict[str, Any]] = []
    for operands, operator in operations:
        if operator in (b"BT", b"q"):
            end: Literal[b"ET", b"Q"] = b"ET" if operator == b"BT" else b"Q"
            found, _ = recurse_to_target_op(operations, state, end, fonts, True)
            runs.extend(dict(run) for run in found)
        elif operator == b"Tf":
            set_font_operation(state, fonts, operands)
        else:
            state.set_state_param(operator, operands)
    return [run for run in runs if run["text"]]


def _char_width(runs: list[dict[str, Any]]) -> float:
    from pypdf._text_extraction._layout_mode import fixed_char_width

    return float(fixed_char_width(runs, _SCALE_WEIGHT))  # type: ignore[arg-type]


def _fallback_text(page: Any, number: int) -> str:
    """The page in pypdf's layout mode, else (failing, or blank: rotated text) its plain mode."""
    blank: str | None = None
    failure: Exception | None = None
    for mode in ("layout", "plain"):
        try:
            text = str(page.extract_text(extraction_mode=mode))
        except (MemoryError, RecursionError):
            raise
        except Exception as error:
            failure = error
            continue
        if text.strip():
            return text
        blank = text
    if blank is None:
        assert failure is not None
        raise UnreadableDocument("pdf", f"page {number}: {_describe(failure)}")
    return blank
