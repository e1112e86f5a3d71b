"""Parsers: bytes of a file in, a ParsedDocument out. The file type is sniffed from content, then the name.

Every failure is a DocumentError with a one-line reason in Dutch (it is shown in the web interface as is);
nothing here touches the index. Every pattern runs in linear time on any input, ZIP containers are checked
before they are opened (`ingestion.archive`), and pypdf's decompression limits are set from `ParseLimits`.
Parsing still runs in a resource-limited child process (`ingestion.sandbox`) in case a library does not.
PDF, DOCX, Markdown, HTML and text are read here; the other formats in `ingestion.formats`.
"""

from __future__ import annotations

import re
import sys
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import DocumentError, UnsupportedDocument
from ingestion.archive import MB, ZipLimits, check_zip, open_zip
from ingestion.document import ParsedDocument, Section
from ingestion.formats import encoding, mail, ocr, odf, outlook, sheets, slides
from ingestion.formats.limits import FormatLimits
from ingestion.formats.markup import SPACES, SectionBuilder, parse_html, parse_markdown, parse_text

TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
                 ".txt": "text", ".text": "text", "": "text", ".csv": "csv", ".tsv": "csv", ".eml": "eml"}
SUPPORTED = "PDF (ook gescand), DOCX, ODT, ODS, ODP, XLSX, PPTX, CSV, EML, MSG, HTML, Markdown en platte tekst"
MAX_TITLE = 200
DOCX_DEFAULT_TITLE = "Word Document"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: MSG, .doc/.xls/.ppt, encrypted DOCX/XLSX/PPTX
ZIP_KINDS = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx", "ppt/presentation.xml": "pptx"}


@dataclass(frozen=True)
class ParseLimits:
    """How far a file may unpack while it is parsed (ZIP containers and PDF streams), and the formats' bounds."""

    zip: ZipLimits = field(default_factory=ZipLimits)
    formats: FormatLimits = field(default_factory=FormatLimits)

    @property
    def max_unpacked_bytes(self) -> int:
        """The most bytes one file may inflate to (a ZIP in total, a PDF per stream)."""
        return self.zip.max_unpacked_bytes


def sniff(data: bytes, name: str, limits: ParseLimits | None = None) -> str:
    """The document kind (pdf, docx, xlsx, pptx, odt, ods, odp, csv, eml, msg, html, markdown, text) from the
    first bytes, falling back on the name. A ZIP container is checked against ``limits`` before anything in
    it is read."""
    suffix = Path(name).suffix.lower()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data, limits or ParseLimits())
    if data.startswith(OLE_MAGIC):
        return _ole_kind(data, suffix)
    if suffix == ".pdf":
        raise DocumentError("geen PDF: de inhoud begint niet met %PDF (beschadigd of hernoemd bestand)")
    if suffix in {".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"}:
        raise DocumentError(f"geen geldig {suffix[1:].upper()}-bestand (beschadigd of hernoemd)")
    if suffix not in TEXT_SUFFIXES:
        raise UnsupportedDocument(f"bestandstype {suffix!r} wordt niet gelezen; Baken leest {SUPPORTED}")
    kind = TEXT_SUFFIXES[suffix]
    if kind == "text" and re.match(rb"\s*(<!doctype html|<html)", data[:1024], re.IGNORECASE):
        return "html"
    if kind == "text" and mail.looks_like_mail(data):
        return "eml"
    return kind


def _zip_kind(data: bytes, limits: ParseLimits) -> str:
    with open_zip(data) as archive:
        members = set(archive.namelist())
        check_zip(archive, limits.zip)
        kind = odf.odf_kind(archive)
    kind = kind or next((k for member, k in ZIP_KINDS.items() if member in members), None)
    if kind is None:
        raise UnsupportedDocument(f"ZIP-bestand dat geen kantoordocument is; Baken leest {SUPPORTED}")
    return kind


def _ole_kind(data: bytes, suffix: str) -> str:
    """msg for an Outlook message; refuses encrypted Office files and the Office formats before 2007."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        raise DocumentError("versleuteld Office-bestand (wachtwoord); haal het wachtwoord eraf en lees het"
                            " opnieuw in")
    if suffix == ".msg" or "__substg1.0_".encode("utf-16-le") in data:
        return "msg"
    raise UnsupportedDocument("oud Office-formaat (.doc, .xls, .ppt) wordt niet gelezen; sla het op als DOCX,"
                              " XLSX of PPTX")


def parse(data: bytes, name: str, limits: ParseLimits | None = None, depth: int = 0) -> ParsedDocument:
    """Parse a file's bytes; raises DocumentError (or UnsupportedDocument) with the reason. ``depth`` counts
    the e-mails this file is attached to."""
    return _Reader(limits or ParseLimits()).read(data, name, depth)


class _Reader:
    """One file and its attachments, read under one set of limits (the attachments share one budget)."""

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.attachments = mail.Budget(limits.formats.max_attachments)

    def read(self, data: bytes, name: str, depth: int = 0) -> ParsedDocument:
        """Parse one file (or attachment)."""
        if not data.strip():
            raise DocumentError("leeg bestand")
        kind = sniff(data, name, self.limits)
        document = self._parse(kind, data, name, depth)
        document.title = " ".join(document.title.split())[:MAX_TITLE] or _fallback_title(name)
        if not any(s.text.strip() for s in document.sections):
            raise DocumentError("geen tekst gevonden")
        return document

    def _parse(self, kind: str, data: bytes, name: str, depth: int) -> ParsedDocument:
        formats, title = self.limits.formats, _fallback_title(name)
        if kind == "pdf":
            return _parse_pdf_within(data, name, self.limits)
        if kind in {"odt", "ods", "odp"}:
            return odf.parse_odf(data, kind, title, formats)
        if kind == "xlsx":
            return sheets.parse_xlsx(data, name, title, formats)
        if kind == "csv":
            return sheets.parse_csv(data, name, title, formats)
        if kind == "pptx":
            return slides.parse_pptx(data, name, title)
        if kind == "eml":
            return mail.parse_eml(data, name, title, formats, self.read, depth, self.attachments)
        if kind == "msg":
            return outlook.parse_msg(data, name, title, formats, self.read, depth, self.attachments)
        return PARSERS[kind](data, name)


def load_libraries() -> None:
    """Import the parsing libraries now (a sandbox worker does so before its memory limit is set)."""
    # openpyxl uses numpy only for numpy's number types, which no file holds; importing it would add 130 MB
    # of address space to every worker. Only the worker process calls this.
    sys.modules.setdefault("numpy", None)  # type: ignore[arg-type]
    import docx  # noqa: F401
    import pypdf.filters  # noqa: F401

    for module in (encoding, odf, outlook, sheets, slides):
        module.preload()


def _fallback_title(name: str) -> str:
    return Path(name).stem.replace("_", " ").replace("-", " ").strip() or name


# --- PDF -------------------------------------------------------------------------------------------------

def _pdf_limits(limits: ParseLimits) -> AbstractContextManager[object]:
    """pypdf's decompression limits, lowered to ``limits`` while a PDF is parsed: pypdf >= 7 has a
    Configuration for them, pypdf 6 module constants."""
    import pypdf
    from pypdf import filters

    most = limits.max_unpacked_bytes
    names = ("zlib", "lzw", "run_length", "jbig2", "brotli")
    if hasattr(pypdf, "apply_configuration"):
        current = pypdf.get_configuration()
        lowered = {f"{n}_maximum_output_length": min(getattr(current, f"{n}_maximum_output_length"), most)
                   for n in names if hasattr(current, f"{n}_maximum_output_length")}
        return pypdf.apply_configuration(maximum_declared_stream_length=min(current.maximum_declared_stream_length,
                                                                            most), **lowered)
    for constant in ("ZLIB_MAX_OUTPUT_LENGTH", "LZW_MAX_OUTPUT_LENGTH", "RUN_LENGTH_MAX_OUTPUT_LENGTH",
                     "JBIG2_MAX_OUTPUT_LENGTH", "MAX_DECLARED_STREAM_LENGTH"):
        if hasattr(filters, constant):
            setattr(filters, constant, min(getattr(filters, constant), most))
    return nullcontext()


def _parse_pdf_within(data: bytes, name: str, limits: ParseLimits) -> ParsedDocument:
    from pypdf.errors import LimitReachedError

    try:
        with _pdf_limits(limits):
            return parse_pdf(data, name, limits.formats)
    except LimitReachedError:
        raise DocumentError(f"het bestand pakt uit tot meer dan {limits.max_unpacked_bytes // MB} MB"
                            " (een stroom in de PDF)") from None


def parse_pdf(data: bytes, name: str, limits: FormatLimits | None = None) -> ParsedDocument:
    """Text per page with pypdf, pages that are only an image through OCR (`ingestion.formats.ocr`);
    encrypted PDFs without an empty user password are refused."""
    limits = limits or FormatLimits()
    import io

    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("versleutelde PDF; haal het wachtwoord eraf en upload het bestand opnieuw")
        title = (reader.metadata.title if reader.metadata else None) or ""
        sections, scanned = [], []
        for number, page in enumerate(reader.pages, start=1):
            text = _clean_pdf_text(page.extract_text() or "")
            if text:
                sections.append(Section(text=text, page=number))
            elif _has_image(page):
                scanned.append(number)
    except (DocumentError, LimitReachedError):
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError,
            IndexError, ZeroDivisionError) as exc:
        raise DocumentError(f"beschadigde PDF ({type(exc).__name__})") from None
    if scanned and limits.ocr:
        found = ocr.read_pages(data, scanned, limits)
        sections = sorted(sections + [Section(text=_clean_pdf_text(t), page=n) for n, t in found.items()
                                      if t.strip()], key=lambda s: s.page or 0)
    elif scanned and not sections:
        raise DocumentError("gescande PDF zonder tekstlaag; OCR staat uit (BAKEN_INGESTION__OCR)")
    if not title.strip() and sections:
        title = sections[0].text.strip().splitlines()[0][:120]
    return ParsedDocument(title=title.strip() or _fallback_title(name), kind="pdf", sections=sections)


def _has_image(page: object) -> bool:
    """Whether a page without text draws something (an image, or a form that may hold one): a scanned page."""
    try:
        objects = page["/Resources"].get_object().get("/XObject")  # type: ignore[index]
        return objects is not None and any(
            objects.get_object()[key].get_object().get("/Subtype") in ("/Image", "/Form")
            for key in objects.get_object())
    except (KeyError, AttributeError, TypeError, ValueError):
        return False


def _clean_pdf_text(text: str) -> str:
    text = re.sub(r"-\n(?=[a-z])", "", text)  # words hyphenated across lines
    text = SPACES.sub(" ", text)
    return text.strip()


# --- DOCX ------------------------------------------------------------------------------------------------

def parse_docx(data: bytes, name: str) -> ParsedDocument:
    """Paragraphs and tables in order; Word heading styles build the heading path."""
    import io

    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 (python-docx raises many types for broken packages)
        raise DocumentError(f"beschadigd DOCX-bestand ({type(exc).__name__})") from None
    title = document.core_properties.title or ""
    if title == DOCX_DEFAULT_TITLE:  # what python-docx makes up for a package without core properties
        title = ""
    builder = SectionBuilder()
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))
                builder.add_text(" | ".join(cells))
            continue
        style = (block.style.name if block.style is not None else "") or ""
        level = _heading_level(style)
        if level:
            builder.heading(level, block.text)
            title = title or (block.text.strip() if level == 1 else "")
        else:
            builder.add_text(block.text)
    return ParsedDocument(title=title.strip() or _fallback_title(name), kind="docx", sections=builder.sections())


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.match(r"(?:Heading|Kop)\s*(\d)", style)
    return int(match.group(1)) if match else 0


PARSERS = {"pdf": parse_pdf, "docx": parse_docx, "markdown": parse_markdown, "html": parse_html,
           "text": parse_text}
