"""DOCX to text with python-docx: paragraphs and tables in order, indented, italics marked."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from playparse.extraction.detect import MAX_ZIP_DIRECTORY_BYTES, zip_directory_size
from playparse.extraction.docx_styles import Styles, W
from playparse.extraction.errors import DocumentTooLarge, EncryptedDocument, UnreadableDocument

# A Word file unpacks to at most this much, and no sizeable part compresses better than
# MAX_RATIO (text XML reaches 10-30x; deflate bombs reach 1000x).
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200
_RATIO_FLOOR_BYTES = 1024 * 1024
MAX_MEMBERS = 10_000

_W = W
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Subtrees whose text is not part of the paragraph as printed: deleted and moved-away revisions,
# the fallback copy of drawings, text boxes (drawn elsewhere on the page).
_SKIPPED = {_W + "del", _W + "moveFrom", _MC_FALLBACK, _W + "txbxContent"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_zip(data: bytes) -> None:
    """Refuse a ZIP whose declared sizes say it would unpack to too much.

    Python's zipfile never inflates a member past its declared size, so the declared sizes
    bound what python-docx can later unpack.

    Raises:
        UnreadableDocument: the ZIP directory cannot be read.
        DocumentTooLarge: too many parts, too many bytes unpacked, or an absurd ratio.
    """
    directory = zip_directory_size(data)
    if directory is not None and directory > MAX_ZIP_DIRECTORY_BYTES:
        raise DocumentTooLarge(
            f"The Word (DOCX) file's list of parts takes {directory / 2**20:,.1f} MB, more than "
            f"the {MAX_ZIP_DIRECTORY_BYTES / 2**20:,.0f} MB allowed (a Word file's takes a few "
            "kilobytes); it may be a zip bomb."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise UnreadableDocument("docx", str(error) or "damaged ZIP directory") from error
    if len(members) > MAX_MEMBERS:
        raise DocumentTooLarge(
            f"The Word (DOCX) file holds {len(members):,} parts, more than the "
            f"{MAX_MEMBERS:,} allowed."
        )
    total = sum(member.file_size for member in members)
    if total > MAX_UNPACKED_BYTES:
        raise DocumentTooLarge(
            f"The Word (DOCX) file would unpack to {total / 2**20:,.0f} MB, more than the "
            f"{MAX_UNPACKED_BYTES / 2**20:,.0f} MB allowed; it may be a zip bomb."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
            raise DocumentTooLarge(
                f"The Word (DOCX) file's part {member.filename} would unpack "
                f"{ratio:,.0f} times larger than it is stored (at most {MAX_RATIO} is "
                "allowed); it may be a zip bomb."
            )


def docx_to_text(data: bytes) -> str:
    """Extract a Word document's text, paragraph by paragraph, tables included.

    Paragraphs are separated by a newline, and by a blank line where Word shows space between
    them (spacing before or after, or an empty paragraph). A paragraph set wholly in italics is
    a stage direction in most printed plays and is wrapped in square brackets unless it is
    already in brackets or parentheses. Table cells each become a line, rows are set apart by
    blank lines (a speaker | speech table reads like a printed play).

    Raises:
        EncryptedDocument: the file is password-protected.
        DocumentTooLarge: the ZIP would unpack to too much (checked before parsing).
        UnreadableDocument: the file is not a readable Word document.
    """
    if data.startswith(_OLE_MAGIC):
        raise EncryptedDocument("docx")
    check_zip(data)
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.opc.package import OpcPackage
    from docx.oxml.parser import parse_xml

    try:
        part = OpcPackage.open(io.BytesIO(data)).main_document_part
        body = _element(part, parse_xml).find(_W + "body")
        try:
            styles_part = part.part_related_by(RELATIONSHIP_TYPE.STYLES)
            styles = Styles(_element(styles_part, parse_xml))
        except KeyError:
            styles = Styles(None)
    except (MemoryError, RecursionError):
        raise
    except Exception as error:  # python-docx and lxml raise many kinds on damaged input
        raise UnreadableDocument("docx", str(error).splitlines()[0][:160] or None) from error
    if body is None:
        raise UnreadableDocument("docx", "the document has no body")
    return _render(_blocks(body, styles))


def _element(part: Any, parse_xml: Any) -> Any:
    # Macro-enabled documents and templates load as plain parts; their XML is the same.
    element = getattr(part, "element", None)
    return element if element is not None else parse_xml(part.blob)


@dataclass
class _Block:
    text: str
    before: bool = False
    after: bool = False
    style: str | None = None
    contextual: bool = False


def _blocks(container: Any, styles: Styles) -> list[_Block | None]:
    """Paragraphs and tables in order; None stands for an empty paragraph."""
    blocks: list[_Block | None] = []
    for child in container:
        if child.tag == _W + "p":
            blocks.append(_paragraph(child, styles))
        elif child.tag == _W + "tbl":
            blocks.append(_table(child, styles))
        elif child.tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                blocks.extend(_blocks(content, styles))
    return blocks


def _paragraph(paragraph: Any, styles: Styles) -> _Block | None:
    pieces: list[str] = []
    italic: list[bool] = []
    _collect(paragraph, pieces, italic, styles, styles.paragraph_style(paragraph))
    text = "".join(pieces)
    if not text.strip():
        return None
    if italic and all(italic):
        text = _bracketed(text)
    style = styles.paragraph_style(paragraph)
    first, rest = styles.indentation(paragraph, style)
    if first or rest:
        # Indented as on the page, the way PDF text keeps its indentation: layouts that indent
        # speeches and directions under a speaker's name at the margin depend on it.
        lines = text.split("\n")
        text = "\n".join(
            " " * (rest if index else first) + line if line.strip() else line
            for index, line in enumerate(lines)
        )
    before, after, contextual = styles.spacing(paragraph, style)
    return _Block(text, before, after, style, contextual)


def _collect(
    element: Any, pieces: list[str], italic: list[bool], styles: Styles, style: str | None
) -> None:
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIPPED:
            continue
        if tag == _W + "r":
            before = len(pieces)
            _run_text(child, pieces)
            if "".join(pieces[before:]).strip():
                italic.append(styles.run_italic(child, style))
        elif tag != _W + "pPr":
            _collect(child, pieces, italic, styles, style)


def _run_text(run: Any, pieces: list[str]) -> None:
    for child in run:
        tag = child.tag
        if tag == _W + "t":
            pieces.append(child.text or "")
        elif tag in (_W + "tab", _W + "ptab"):
            pieces.append("\t")
        elif tag in (_W + "br", _W + "cr"):
            pieces.append("\n")
        elif tag == _W + "noBreakHyphen":
            pieces.append("-")


def _bracketed(text: str) -> str:
    inner = text.strip()
    if (inner.startswith("[") and inner.endswith("]")) or (
        inner.startswith("(") and inner.endswith(")")
    ):
        return inner
    return f"[{inner}]"


def _table(table: Any, styles: Styles) -> _Block | None:
    rows = []
    for row in table.iter(_W + "tr"):
        if row.getparent() is not table:
            continue  # a nested table's rows come through its cell
        cells = [
            _render(_blocks(cell, styles))
            for cell in row.iter(_W + "tc")
            if cell.getparent() is row
        ]
        text = "\n".join(cell for cell in cells if cell.strip())
        if text:
            rows.append(text)
    if not rows:
        return None
    return _Block("\n\n".join(rows), before=True, after=True)


def _render(blocks: list[_Block | None]) -> str:
    out: list[str] = []
    previous: _Block | None = None
    gap = False
    for block in blocks:
        if block is None:
            gap = previous is not None
            continue
        if previous is not None:
            spaced = previous.after or block.before
            if spaced and block.contextual and previous.style == block.style:
                spaced = False  # Word drops the space between paragraphs of one style
            out.append("\n\n" if gap or spaced else "\n")
        out.append(block.text)
        previous, gap = block, False
    return "".join(out)
