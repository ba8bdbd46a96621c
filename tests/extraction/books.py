"""A plain-text play typeset as a printed book (PDF) and as a Word document (DOCX).

The text's own line wrapping is undone (a line that reaches the e-text's measure runs on into
the next) and the paragraphs are set again: in the PDF at an A5 book's measure, words
hyphenated at line ends, under running headers with page numbers; in the DOCX as Word
paragraphs, speaker labels in paragraphs of their own and directions in italics.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import docx
from docx.shared import Pt
from fpdf import FPDF

from tests.extraction.builders import new_book

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSerif.ttf", "I": "DejaVuSerif-Italic.ttf", "B": "DejaVuSerif-Bold.ttf"}
# A line this close to the longest line of the text was wrapped by the e-text, not by the poet.
_WRAP_SLACK = 12
_LINE_MM = 4.6
_INDENT_MM = 1.8
# A label printed before the speech: "DER PRINZ: Des Grafen ...", "WENDLA. Warum ..."
_INLINE_LABEL = re.compile(r"^(?P<label>[^\W\d_][^\W\d_'’ -]*?)(?P<mark>[.:]) +(?P<rest>\S.*)$")
_DIRECTION = re.compile(r"^\s*(\[[^\]]*\]|\([^)]*\))[.,;:!?]?\s*$")
_INLINE_DIRECTION = re.compile(r"(\[[^\]]*\]|\([^)]*\))")
_HYPHENABLE = re.compile(r"^(?P<word>[^\W\d_]{6,})(?P<tail>[^\w\s]*)$")


@dataclass
class Paragraph:
    """A run of the text's lines that the e-text wrapped; verse lines are paragraphs of one."""

    text: str
    indent: int
    hanging: int
    blank_before: int = 0
    lines: list[str] = field(default_factory=list)


def fonts_available() -> bool:
    """Whether the serif font with Cyrillic and Latin glyphs is installed (fonts-dejavu-core)."""
    return all((FONT_DIR / name).is_file() for name in FONT_FILES.values())


def paragraphs(text: str, headings: Collection[str] = ()) -> list[Paragraph]:
    """The text's paragraphs with the blank lines before each and their indentation.

    A line in `headings` is a paragraph of its own.
    """
    lines = text.split("\n")
    measure = max((len(line) for line in lines), default=0)
    # Texts whose lines are not wrapped at all (one line per speech) have nothing to undo.
    wrapped_at = measure - _WRAP_SLACK if measure <= 100 else 10**6
    found: list[Paragraph] = []
    blanks = 0
    previous = ""
    for line in lines:
        if not line.strip():
            blanks += 1
            previous = ""
            continue
        indent = len(line) - len(line.lstrip())
        heading = line.strip() in headings
        # A hanging indentation shows from the second line on; a bracket opens a direction.
        aligned = len(found[-1].lines) == 1 or indent == found[-1].hanging if found else False
        if (
            previous
            and len(previous) >= wrapped_at
            and aligned
            and not line.lstrip().startswith(("[", "("))
            and not heading
            and found[-1].text not in headings
        ):
            last = found[-1]
            last.text += " " + line.strip()
            last.hanging = indent if len(last.lines) == 1 else last.hanging
            last.lines.append(line)
        else:
            found.append(Paragraph(line.strip(), indent, indent, blanks, [line]))
        blanks = 0
        previous = line
    return found


def _hyphenate(word: str, fits: Callable[[str], bool]) -> tuple[str, str] | None:
    """Split a long word so that its first part and a hyphen fit: ("Bitt-", "schriften")."""
    match = _HYPHENABLE.match(word)
    if match is None or match["word"].isupper():
        return None
    letters = match["word"]
    for cut in range(len(letters) - 3, 2, -1):
        head = letters[:cut] + "-"
        if fits(head):
            return head, letters[cut:] + match["tail"]
    return None


def book_pdf(
    text: str,
    *,
    title: str,
    author: str,
    headings: Collection[str] = (),
    numbers: str = "footer",
) -> bytes:
    """The play as a printed A5 book.

    Args:
        text: the play as plain text.
        headings: the act and scene headings, set centred in a larger bold type.
        title: the running header of right-hand pages.
        author: the running header of left-hand pages.
        numbers: "footer" for page numbers centred under the text, "header" for numbers at
            the outer edge of the running header line.
    """
    pdf = new_book(headers=(author, title), numbers=numbers, font="Serif")
    for style, name in FONT_FILES.items():
        pdf.add_font("Serif", style, str(FONT_DIR / name))
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    headings = {heading.strip() for heading in headings}
    for paragraph in paragraphs(text, headings):
        if paragraph.blank_before:
            pdf.ln(_LINE_MM * min(paragraph.blank_before, 3))
        if paragraph.text in headings:
            pdf.set_font("Serif", "B", 12)
            pdf.cell(0, _LINE_MM * 1.4, paragraph.text, align="C", new_x="LMARGIN", new_y="NEXT")
            continue
        direction = bool(_DIRECTION.match(paragraph.text))
        pdf.set_font("Serif", "I" if direction else "", 10)
        indent = paragraph.indent
        words = paragraph.text.split(" ")
        line: list[str] = []
        while words:
            room = width - indent * _INDENT_MM

            def fits(piece: str, line: list[str] = line, room: float = room) -> bool:
                return pdf.get_string_width(" ".join([*line, piece])) <= room

            word = words.pop(0)
            if fits(word) or not line:
                line.append(word)
                continue
            split = _hyphenate(word, fits)
            if split is not None:
                line.append(split[0])
                words.insert(0, split[1])
            else:
                words.insert(0, word)
            _set_line(pdf, " ".join(line), indent)
            line, indent = [], paragraph.hanging
        if line:
            _set_line(pdf, " ".join(line), indent)
    return bytes(pdf.output())


def _set_line(pdf: FPDF, line: str, indent: int) -> None:
    pdf.set_x(pdf.l_margin + indent * _INDENT_MM)
    pdf.cell(0, _LINE_MM, line, new_x="LMARGIN", new_y="NEXT")


def book_docx(text: str, *, headings: Collection[str] = ()) -> bytes:
    """The play as a Word document.

    Each paragraph of the text is a Word paragraph, indented as it was; a speaker label that
    opens a speech ("DER PRINZ: ...") becomes a paragraph of its own; directions in brackets
    or parentheses are set in italics; `headings` are Word headings. Paragraphs after a blank
    line have space before them.
    """
    document = docx.Document()
    normal = document.styles["Normal"].paragraph_format
    normal.space_before, normal.space_after = Pt(0), Pt(0)
    headings = {heading.strip() for heading in headings}
    for paragraph in paragraphs(text, headings):
        if paragraph.text in headings:
            document.add_heading(paragraph.text, level=2)
            continue
        pieces = [paragraph.text]
        label = _INLINE_LABEL.match(paragraph.text)
        if label and label["label"].isupper() and paragraph.indent == 0:
            pieces = [label["label"] + label["mark"], label["rest"]]
        for index, piece in enumerate(pieces):
            added = document.add_paragraph()
            added.paragraph_format.left_indent = Pt(paragraph.indent * 6)
            if paragraph.blank_before and index == 0:
                added.paragraph_format.space_before = Pt(8)
            for run in _INLINE_DIRECTION.split(piece):
                if run:
                    added.add_run(run).italic = bool(_INLINE_DIRECTION.fullmatch(run))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
