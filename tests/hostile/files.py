"""Hostile files, generated at test time (nothing big is committed): each with the Dutch reason it must give.

A name starting with "ok:" must be indexed (or refused as empty) quickly instead: pathological text that the
linear parsers read in milliseconds.
"""

from __future__ import annotations

import codecs
import io
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
DOCX_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
              'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
              'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
              '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
              'document.main+xml"/></Types>')
DOCX_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
             '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
             '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@dataclass(frozen=True)
class Hostile:
    """A file to ingest and the reason (a fragment of the Dutch error) it must be refused with."""

    name: str
    reason: str
    make: Callable[[], bytes]


def pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF with these objects (numbered from 1) and a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref))
    return out.getvalue()


def page_pdf(contents: list[bytes], filters: bytes = b"") -> bytes:
    """One page per content stream, Helvetica, optionally with a /Filter entry."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for stream in contents:
        page, content = len(objects) + 1, len(objects) + 2
        kids.append(b"%d 0 R" % page)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R /Resources << /Font"
                       b" << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>" % content)
        objects.append(b"<< /Length %d %s >>\nstream\n" % (len(stream), filters) + stream + b"\nendstream")
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    return pdf(objects)


def text_pdf(pages: int = 1, line: str = "Beleid over thuiswerken") -> bytes:
    return page_pdf([f"BT /F1 12 Tf 72 720 Td ({line} {n}) Tj ET".encode() for n in range(pages)])


def truncated_pdf() -> bytes:
    data = text_pdf(3)
    return data[: len(data) // 2]


def looping_pdf() -> bytes:
    """A page tree whose Pages node is its own kid, and a page that is its own parent."""
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
                b"<< /Type /Page /Parent 3 0 R /Contents 4 0 R >>", b"<< /Length 3 >>\nstream\nBT \nendstream"])


def nested_pdf(depth: int = 100_000) -> bytes:
    """An object nested ``depth`` arrays deep, referenced from the page."""
    nested = b"[" * depth + b"]" * depth
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Annots 5 0 R >>",
                b"<< /Length 23 >>\nstream\nBT (Diep genest) Tj ET\nendstream", nested])


def nested_content_pdf(depth: int = 100_000) -> bytes:
    """A content stream whose operand is nested ``depth`` arrays deep."""
    return page_pdf([b"BT /F1 12 Tf " + b"[" * depth + b"]" * depth + b" TJ ET"])


def flate_bomb_pdf(megabytes: int = 200) -> bytes:
    """A page whose content stream inflates from about 200 KB to ``megabytes`` MB of spaces."""
    compressor = zlib.compressobj(9)
    block = b" " * MB
    stream = b"".join(compressor.compress(block) for _ in range(megabytes)) + compressor.flush()
    return page_pdf([stream], b"/Filter /FlateDecode")


def docx(document_xml: bytes | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal DOCX package around ``document_xml``."""
    body = document_xml or (f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>Een gewone alinea.</w:t></w:r>'
                            "</w:p></w:body></w:document>").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", DOCX_TYPES)
        archive.writestr("_rels/.rels", DOCX_RELS)
        archive.writestr("word/document.xml", body)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def docx_bomb(megabytes: int = 1024) -> bytes:
    """A DOCX of about 1 MB whose document.xml inflates to ``megabytes`` MB (zeros after a real start)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", DOCX_TYPES)
        archive.writestr("_rels/.rels", DOCX_RELS)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>'.encode())
            zeros = b"0" * MB
            for _ in range(megabytes):
                member.write(zeros)
    return out.getvalue()


def ratio_docx(megabytes: int = 20) -> bytes:
    """A DOCX under the size limit with one member compressed more than 1000:1."""
    return docx(extra={"word/media/leeg.bin": b"\0" * (megabytes * MB)})


def many_members_docx(count: int = 20_000) -> bytes:
    """A DOCX with ``count`` tiny members."""
    return docx(extra={f"word/x/{n}.xml": b"" for n in range(count)})


def nested_xml_docx(depth: int = 100_000) -> bytes:
    """A DOCX whose document.xml nests ``depth`` elements."""
    inner = "<w:r>" * depth + "</w:r>" * depth
    return docx(f'<w:document xmlns:w="{W}"><w:body><w:p>{inner}</w:p></w:body></w:document>'.encode())


def laughs_docx() -> bytes:
    """Billion laughs: entities that would expand to gigabytes if they were resolved."""
    entities = '<!ENTITY a0 "hahahahahahahaha">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10))
    xml = (f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]><w:document xmlns:w="{W}"><w:body><w:p><w:r>'
           "<w:t>&a9;</w:t></w:r></w:p></w:body></w:document>")
    return docx(xml.encode())


def pathological_markdown(size: int = 200_000) -> bytes:
    """Each line took the older patterns hours at this size; the text it leaves is small."""
    lines = ["# Titel", "", "Gewone tekst over afval.", "# a" + " " * size + "b", "## a" + " #" * (size // 2) + "b",
             "[a]" * (size // 30), "<" + "x" * 300, "{:" * (size // 20)]
    return "\n".join(lines).encode()


def pathological_front_matter(size: int = 200_000) -> bytes:
    return ("---\ntitle: a" + " " * size + "b\n---\n# Kop\n\nTekst over parkeren.").encode()


def pathological_html(size: int = 200_000) -> bytes:
    return ("<html><head><title>Pagina</title></head><body><p>Tekst over parkeren.</p>" + "<a " * (size // 3) +
            '<b x="' * (size // 6) + "<!--" * (size // 4)).encode()


def nested_html(depth: int = 50_000) -> bytes:
    return ("<html><body>" + "<div>" * depth + "Diep genest." + "</div>" * depth + "</body></html>").encode()


def many_lines(megabytes: int = 40) -> bytes:
    """Millions of short lines: a worker that splits them runs out of a small address space."""
    return b"# Regels\n" + b"ab\n" * (megabytes * MB // 3)


def much_text(megabytes: int = 6) -> bytes:
    """An HTML page with more visible text than the output limit."""
    return b"<html><body><p>" + b"tekst over de gemeente " * (megabytes * MB // 23) + b"</p></body></html>"


# Refused files, with a fragment of the Dutch reason each gives under the limits of tests/hostile/test_hostile.py.
FILES = [
    Hostile("afgekapt.pdf", "beschadigde PDF", truncated_pdf),
    Hostile("lus.pdf", "beschadigde PDF", looping_pdf),
    Hostile("genest-inhoud.pdf", "beschadigde PDF", nested_content_pdf),
    Hostile("genest.pdf", "geen tekst gevonden", nested_pdf),
    Hostile("flate-bom.pdf", "het bestand pakt uit tot meer dan 50 MB", flate_bomb_pdf),
    Hostile("zip-bom.docx", "het bestand pakt uit tot meer dan 50 MB", docx_bomb),
    Hostile("verhouding.docx", "verdacht sterk samengeperst", ratio_docx),
    Hostile("onderdelen.docx", "het bestand bevat meer dan 10000 onderdelen", many_members_docx),
    Hostile("genest.docx", "beschadigd DOCX-bestand", lambda: nested_xml_docx(20_000)),
    Hostile("lachen.docx", "beschadigd DOCX-bestand", laughs_docx),
    Hostile("veel-regels.md", "het verwerken vraagt meer dan 256 MB geheugen", many_lines),
    Hostile("veel-tekst.html", "het bestand bevat meer dan 5 MB tekst", much_text),
    Hostile("binair.txt", "binaire inhoud in een tekstbestand", lambda: bytes(range(256)) * 8),
    Hostile("kapotte-bom.md", "de bytevolgordemarkering klopt niet met de inhoud",
            lambda: codecs.BOM_UTF16_LE + "# Kop".encode("utf-16-le") + b"\x00\xd8"),
    Hostile("leeg-utf16.txt", "geen tekst gevonden", lambda: codecs.BOM_UTF16_LE + " \n".encode("utf-16-le")),
]
SLOW = Hostile("traag.pdf", "", lambda: text_pdf(20_000))  # seconds of CPU: the CPU or wall-clock limit stops it
# Files that look hostile but are fine: indexed, in milliseconds of parsing.
ACCEPTED = [
    Hostile("pathologisch.md", "", lambda: pathological_markdown(200_000)),
    Hostile("voorwerk.md", "", lambda: pathological_front_matter(200_000)),
    Hostile("pathologisch.html", "", lambda: pathological_html(200_000)),
    Hostile("genest.html", "", nested_html),
    Hostile("Jan de Vries bezwaar.md", "", lambda: b"# Bezwaar\n\nBezwaar tegen de parkeervergunning."),
    # Text in other encodings than UTF-8 is read (ingestion.formats.encoding), damaged UTF-8 too.
    Hostile("latin1.txt", "", lambda: "Caf\u00e9 op het plein".encode("latin-1")),
    Hostile("utf16.txt", "", lambda: "Tekst".encode("utf-16")),
    Hostile("surrogaat.md", "", lambda: b"# Kop\n\n\xed\xa0\x80 tekst"),
    Hostile("afgekapt-utf8.txt", "", lambda: "Tekst met \u20ac".encode()[:-1]),
]


def write_all(folder: Path, files: list[Hostile]) -> dict[str, Hostile]:
    """Write each file into ``folder``; the files by name."""
    folder.mkdir(parents=True, exist_ok=True)
    for hostile in files:
        (folder / hostile.name).write_bytes(hostile.make())
    return {h.name: h for h in files}
