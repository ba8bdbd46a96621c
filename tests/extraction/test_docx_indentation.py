"""DOCX paragraphs keep their indentation, so layouts that indent speeches read as printed."""

from __future__ import annotations

import io

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from playparse.extraction import extract


def moby_docx() -> bytes:
    """Speakers at the margin, speeches and directions indented: directly or by a style."""
    document = docx.Document()
    speech = document.styles.add_style("Speech", WD_STYLE_TYPE.PARAGRAPH)
    speech.paragraph_format.left_indent = Pt(24)
    document.add_paragraph("First Witch")
    document.add_paragraph("When shall we three meet again", style="Speech")
    document.add_paragraph("In thunder, lightning, or in rain?", style="Speech")
    exit_line = document.add_paragraph()
    exit_line.paragraph_format.left_indent = Pt(24)
    exit_line.add_run("Exeunt").italic = True
    hanging = document.add_paragraph("DUNCAN. What bloody man is that?")
    hanging.paragraph_format.left_indent = Pt(24)
    hanging.paragraph_format.first_line_indent = Pt(-24)
    hanging.add_run().add_break()
    hanging.add_run("He can report.")
    first_line = document.add_paragraph("A new paragraph of prose.")
    first_line.paragraph_format.first_line_indent = Pt(12)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


async def test_indentation_comes_out_as_leading_spaces() -> None:
    lines = [line for line in (await extract(moby_docx())).text.split("\n") if line]
    assert lines == [
        "First Witch",
        "    When shall we three meet again",  # 24 pt: four columns of 6 pt
        "    In thunder, lightning, or in rain?",
        "    [Exeunt]",  # wholly italic: a direction, and still indented
        "DUNCAN. What bloody man is that?",  # a hanging indentation: the first line out
        "    He can report.",
        "  A new paragraph of prose.",
    ]


async def test_an_indentation_that_is_not_a_number_is_ignored() -> None:
    """Word writes twips; a file that says `inf` or `1e400` is read as unindented."""
    document = docx.Document()
    for value in ("inf", "nan", "1e400"):
        paragraph = document.add_paragraph(f"HAMLET. Indented by {value}.")
        indentation = OxmlElement("w:ind")
        indentation.set(qn("w:left"), value)
        paragraph._p.get_or_add_pPr().append(indentation)
    buffer = io.BytesIO()
    document.save(buffer)
    lines = [line for line in (await extract(buffer.getvalue())).text.split("\n") if line]
    assert lines == [f"HAMLET. Indented by {value}." for value in ("inf", "nan", "1e400")]
