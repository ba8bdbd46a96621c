"""Documents made on the fly for the extraction tests: plays as PDF and DOCX, hostile files."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.shared import Pt
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter

HEADERS = ("Emilia Galotti", "Lessing")
SPEECH = [
    "Klagen, nichts als Klagen! Die Bitt-",
    "schriften, nichts als Bittschriften! - Die",
    "traurigen Geschäfte; und man beneidet uns noch!",
]


class _Book(FPDF):
    """A5 pages; from page 2 on a running header (author and title alternate) and a number.

    The number is centred in the footer, or with `numbers="header"` printed at the outer edge
    of the header line, as many books have it.
    """

    headers: tuple[str, str] = HEADERS
    numbers = "footer"
    font = "Helvetica"

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(self.font, "I", 9)
            running = self.headers[self.page_no() % 2]
            if self.numbers == "header":
                left = self.page_no() % 2 == 0
                self.cell(0, 6, str(self.page_no()), align="L" if left else "R")
                self.set_x(self.l_margin)
            self.cell(0, 6, running, align="C")
            self.ln(10)

    def footer(self) -> None:
        if self.numbers == "footer":
            self.set_y(-15)
            self.set_font(self.font, "", 9)
            self.cell(0, 10, f"- {self.page_no()} -", align="C")


def new_book(
    *, headers: tuple[str, str] = HEADERS, numbers: str = "footer", font: str = "Helvetica"
) -> _Book:
    """An empty A5 book; add the `font` before the first page when it is not a core font."""
    with warnings.catch_warnings():
        # fpdf2 notes that it corrected the A5 dimensions in 2.8.5; nothing to act on.
        warnings.simplefilter("ignore", UserWarning)
        book = _Book(format="A5")
    book.headers, book.numbers, book.font = headers, numbers, font
    return book


def play_pdf(speeches: int = 30, *, monologue: int = 0) -> bytes:
    """A printed play: title page, then speeches (speaker at the margin, speech indented).

    Every speech ends its first line in a hyphenated "Bitt-" that the next line completes.
    With `monologue`, the last speech has that many more lines, so whole pages hold nothing
    but indented lines.
    """
    pdf = new_book()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 12, "EMILIA GALOTTI", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 8, "Ein Trauerspiel in fünf Aufzügen", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Erster Auftritt", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for number in range(speeches):
        speaker = "DER PRINZ." if number % 2 == 0 else "MARINELLI."
        extra = monologue if number == speeches - 1 else 0
        lines = SPEECH + [f"So weiter, Größe und Pracht, {_word(n)}." for n in range(extra)]
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(0, 5, speaker, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "I", 10)
        pdf.set_x(pdf.l_margin + 10)
        pdf.cell(0, 5, "[an einem Arbeitstische.]", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for line in lines:
            pdf.set_x(pdf.l_margin + 10)
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    return bytes(pdf.output())


def _word(number: int) -> str:
    # Lines that differ without numbers in them (a number could pass for a page number).
    return "".join("abcdefghij"[int(digit)] for digit in str(number))


def encrypted_pdf(*, user_password: str) -> bytes:
    """The play, encrypted (RC4, which pypdf handles without a crypto library)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(play_pdf(4))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def scanned_pdf(pages: int = 2) -> bytes:
    """Pages that hold only an image, as a scanner makes them."""
    picture = io.BytesIO()
    Image.new("L", (40, 60), color=200).save(picture, format="PNG")
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.image(io.BytesIO(picture.getvalue()), x=10, y=20, w=100)
    return bytes(pdf.output())


def raw_pdf(content: bytes) -> bytes:
    """A one-page PDF written by hand around a (deflated) content stream using Helvetica."""
    stream = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def slow_pdf(lines: int = 300_000) -> bytes:
    """A 10 KB PDF whose single page shows `lines` lines: seconds and hundreds of MB to read."""
    return raw_pdf(b"BT /F1 12 Tf 72 700 Td " + b"(x) Tj 0 -1 Td " * lines + b"ET")


def play_docx() -> bytes:
    """A play as Word writes it, with directions in italics (direct and through a style)."""
    document = docx.Document()
    direction = document.styles.add_style("Stage Direction", WD_STYLE_TYPE.PARAGRAPH)
    direction.font.italic = True
    direction.paragraph_format.space_after = Pt(6)
    document.add_heading("Erster Aufzug", level=1)
    document.add_paragraph("DER PRINZ.")
    document.add_paragraph().add_run("an einem Arbeitstische, voller Briefschaften.").italic = True
    document.add_paragraph("Klagen, nichts als Klagen!")
    document.add_paragraph("DER KAMMERDIENER.")
    speech = document.add_paragraph("Nein. ")
    speech.add_run("Er geht ab.").italic = True
    document.add_paragraph("Er kommt zurück.", style="Stage Direction")
    document.add_paragraph().add_run("(Er lieset.)").italic = True
    document.add_paragraph("")
    table = document.add_table(rows=2, cols=2)
    for row, (speaker, text) in enumerate(
        [("MARINELLI.", "Gnädiger Herr!"), ("DER PRINZ.", "Guten Morgen.")]
    ):
        table.cell(row, 0).text = speaker
        table.cell(row, 1).text = text
    document.add_paragraph("ENDE")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def bomb_docx_by_ratio() -> bytes:
    """A DOCX whose document.xml inflates 1000-fold (20 MB of spaces in about 20 KB)."""
    return zip_with(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"<w:document>" + b" " * 20_000_000 + b"</w:document>",
        }
    )


def bomb_docx_by_declared_size() -> bytes:
    """A small DOCX whose directory declares a 3 GB document.xml."""
    data = bytearray(play_docx())
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_length] == b"word/document.xml":
            struct.pack_into("<I", data, central + 24, 3 * 2**30)
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def docx_with_a_vast_directory(*, zip64: bool = False) -> bytes:
    """A ZIP of one empty word/document.xml whose directory lists it, then 50,000 nameless
    entries pointing at the same bytes: 2.3 MB of directory that a reader has to walk."""
    name = b"word/document.xml"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0)
    local += name

    def entry(entry_name: bytes) -> bytes:
        fixed = struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            len(entry_name),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        return fixed + entry_name

    count = 50_001
    directory = entry(name) + entry(b"") * (count - 1)
    start, size = len(local), len(directory)
    if not zip64:
        end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, start, 0)
        return local + directory + end
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, start)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, start + size, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return local + directory + record + locator + end


def encrypted_docx() -> bytes:
    """What Word writes for a password-protected .docx: an OLE file with an EncryptedPackage."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = "EncryptionInfo".encode("utf-16-le") + b"\x00" * 50
    directory += "EncryptedPackage".encode("utf-16-le") + b"\x00" * 50
    return header + directory + bytes(range(256)) * 8
