"""Parsers: bytes of a file in, a ParsedDocument out. The file type is sniffed from content, then the name.

Every failure is a DocumentError with a one-line reason in Dutch (it is shown in the web interface as is);
nothing here touches the index. Every pattern runs in linear time on any input, ZIP containers are checked
before they are opened (`ingestion.archive`), and pypdf's decompression limits are set from `ParseLimits`.
Parsing still runs in a resource-limited child process (`ingestion.sandbox`) in case a library does not.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from baken.errors import DocumentError, UnsupportedDocument
from ingestion.archive import MB, ZipLimits, check_zip, open_zip
from ingestion.document import ParsedDocument, Section
from ingestion.html_tokens import tokenize

TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
                 ".txt": "text", ".text": "text", "": "text"}
SUPPORTED = "PDF, DOCX, HTML, Markdown en platte tekst"
MAX_TITLE = 200
DOCX_DEFAULT_TITLE = "Word Document"


@dataclass(frozen=True)
class ParseLimits:
    """How far a file may unpack while it is parsed: ZIP containers and PDF streams."""

    zip: ZipLimits = field(default_factory=ZipLimits)

    @property
    def max_unpacked_bytes(self) -> int:
        """The most bytes one file may inflate to (a ZIP in total, a PDF per stream)."""
        return self.zip.max_unpacked_bytes


def sniff(data: bytes, name: str, limits: ParseLimits | None = None) -> str:
    """The document kind (pdf, docx, html, markdown, text) from the first bytes, falling back on the name.
    A ZIP container is checked against ``limits`` before anything in it is read."""
    suffix = Path(name).suffix.lower()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        with open_zip(data) as archive:
            members = set(archive.namelist())
            check_zip(archive, (limits or ParseLimits()).zip)
        if "word/document.xml" in members:
            return "docx"
        if "xl/workbook.xml" in members:
            raise UnsupportedDocument("spreadsheets (XLSX) worden nog niet gelezen; sla het blad op als PDF")
        raise UnsupportedDocument(f"ZIP-bestand dat geen Word-document is; Baken leest {SUPPORTED}")
    if suffix == ".pdf":
        raise DocumentError("geen PDF: de inhoud begint niet met %PDF (beschadigd of hernoemd bestand)")
    if suffix in {".docx", ".xlsx"}:
        raise DocumentError(f"geen geldig {suffix[1:].upper()}-bestand (beschadigd of hernoemd)")
    if suffix not in TEXT_SUFFIXES:
        raise UnsupportedDocument(f"bestandstype {suffix!r} wordt niet gelezen; Baken leest {SUPPORTED}")
    if b"\x00" in data[:8192]:
        raise UnsupportedDocument("binaire inhoud in een tekstbestand")
    kind = TEXT_SUFFIXES[suffix]
    if kind == "text" and re.match(rb"\s*(<!doctype html|<html)", data[:1024], re.IGNORECASE):
        return "html"
    return kind


def parse(data: bytes, name: str, limits: ParseLimits | None = None) -> ParsedDocument:
    """Parse a file's bytes; raises DocumentError (or UnsupportedDocument) with the reason."""
    limits = limits or ParseLimits()
    if not data.strip():
        raise DocumentError("leeg bestand")
    kind = sniff(data, name, limits)
    document = _parse_pdf_within(data, name, limits) if kind == "pdf" else PARSERS[kind](data, name)
    document.title = " ".join(document.title.split())[:MAX_TITLE]  # a hostile title is no page of text
    if not any(s.text.strip() for s in document.sections):
        hint = " (een gescande PDF zonder tekstlaag?)" if kind == "pdf" else ""
        raise DocumentError(f"geen tekst gevonden{hint}")
    return document


def load_libraries() -> None:
    """Import the parsing libraries now (a sandbox worker does so before its memory limit is set)."""
    import docx  # noqa: F401
    import pypdf.filters  # noqa: F401


def _fallback_title(name: str) -> str:
    return Path(name).stem.replace("_", " ").replace("-", " ").strip() or name


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"geen geldige UTF-8-tekst (byte {exc.start}); sla het bestand op als UTF-8") from None


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
            return parse_pdf(data, name)
    except LimitReachedError:
        raise DocumentError(f"het bestand pakt uit tot meer dan {limits.max_unpacked_bytes // MB} MB"
                            " (een stroom in de PDF)") from None


def parse_pdf(data: bytes, name: str) -> ParsedDocument:
    """Text per page with pypdf; encrypted PDFs without an empty user password are refused."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("versleutelde PDF; haal het wachtwoord eraf en upload het bestand opnieuw")
        title = (reader.metadata.title if reader.metadata else None) or ""
        sections = []
        for number, page in enumerate(reader.pages, start=1):
            text = _clean_pdf_text(page.extract_text() or "")
            if text:
                sections.append(Section(text=text, page=number))
    except (DocumentError, LimitReachedError):
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError,
            IndexError, ZeroDivisionError) as exc:
        raise DocumentError(f"beschadigde PDF ({type(exc).__name__})") from None
    if not title.strip() and sections:
        title = sections[0].text.strip().splitlines()[0][:120]
    return ParsedDocument(title=title.strip() or _fallback_title(name), kind="pdf", sections=sections)


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
    builder = _SectionBuilder()
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


class _SectionBuilder:
    """Collects text under the current heading path."""

    def __init__(self) -> None:
        self._path: list[tuple[int, str]] = []
        self._lines: list[str] = []
        self._sections: list[Section] = []

    def heading(self, level: int, text: str) -> None:
        text = " ".join(text.split())
        if not text:
            return
        self._flush()
        self._path = [(lvl, t) for lvl, t in self._path if lvl < level] + [(level, text)]

    def add_text(self, text: str) -> None:
        if text.strip():
            self._lines.append(text.strip())

    def _flush(self) -> None:
        if self._lines:
            heading = tuple(t for _, t in self._path)
            self._sections.append(Section(text="\n".join(self._lines), heading=heading))
        self._lines = []

    def sections(self) -> list[Section]:
        self._flush()
        return self._sections


# --- Markdown --------------------------------------------------------------------------------------------

# Every pattern here is linear: no quantified group is followed by another that can match the same
# characters, and every bracket class excludes its own opening bracket, so a scan that fails at one "[" stops
# at the next one instead of running to the end of the line again (the older patterns took hours on a
# 20 KB line of "# a<spaces>b" or of "![![![").
FRONT_MATTER_FENCES = ("---", "+++")
MD_HEADING = re.compile(r"(#{1,6})[ \t]")
URL = r"\((?:[^()]|\([^()]*\))*\)"  # one level of parentheses inside, as in Wikipedia addresses
MD_IMAGE = re.compile(r"!\[[^\[\]]*\]" + URL)
MD_LINK = re.compile(r"\[([^\[\]]*)\]" + URL)
MD_TAG = re.compile(r"<[^<>]{1,200}>")
MD_ATTRIBUTES = re.compile(r"\{[:#.][^{}]*\}")
SPACES = re.compile(r"[ \t]+")


def parse_markdown(data: bytes, name: str) -> ParsedDocument:
    """Front matter removed (its title kept), ATX headings build the heading path, markup lightly stripped."""
    lines = _decode(data).replace("\r\n", "\n").split("\n")
    front, lines = _front_matter(lines)
    title = next((line[6:].strip().strip("'\"") for line in front if line.startswith("title:")), "")
    builder = _SectionBuilder()
    fence = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fence = None if fence and stripped.startswith(fence) else (fence or stripped[:3])
            continue
        heading = None if fence else _md_heading(line)
        if heading:
            level, text_of_heading = heading[0], _strip_inline(heading[1])
            builder.heading(level, text_of_heading)
            title = title or (text_of_heading if level == 1 else "")
        else:
            builder.add_text(_strip_inline(line) if not fence else line)
    return ParsedDocument(title=title.strip() or _fallback_title(name), kind="markdown",
                          sections=builder.sections())


def _front_matter(lines: list[str]) -> tuple[list[str], list[str]]:
    """The front matter's lines (between a first line of --- or +++ and the next such line) and the rest."""
    if not lines or lines[0].strip() not in FRONT_MATTER_FENCES:
        return [], lines
    for number in range(1, len(lines)):
        if lines[number].strip() in FRONT_MATTER_FENCES:
            return lines[1:number], lines[number + 1:]
    return [], lines


def _md_heading(line: str) -> tuple[int, str] | None:
    """An ATX heading's level and text, without its closing run of # (CommonMark: after a space)."""
    marker = MD_HEADING.match(line)
    if marker is None:
        return None
    text = line[marker.end():].strip(" \t")
    closing = text.rstrip("#")
    if closing != text and (not closing or closing[-1] in " \t"):
        text = closing.rstrip(" \t")
    return (len(marker.group(1)), text) if text else None


def _strip_inline(line: str) -> str:
    line = MD_IMAGE.sub("", line)
    line = MD_LINK.sub(r"\1", line)          # links keep their text
    line = MD_TAG.sub(" ", line)              # stray HTML tags
    line = MD_ATTRIBUTES.sub("", line)        # attribute lists {: .class}
    return SPACES.sub(" ", line).strip()


# --- HTML ------------------------------------------------------------------------------------------------

class _HTMLText:
    """Visible text and headings of a page from its tokens (`ingestion.html_tokens`, linear on any input)."""

    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    BLOCK = frozenset({"p", "div", "li", "tr", "br", "section", "article", "table", "ul", "ol", "blockquote", "pre",
             "dd", "dt", "figcaption"})
    HEADINGS: ClassVar[dict[str, int]] = {f"h{level}": level for level in range(1, 7)}

    def __init__(self) -> None:
        self.builder = _SectionBuilder()
        self.title = ""
        self._skip = 0
        self._in_title = False
        self._heading: int | None = None
        self._buffer: list[str] = []

    def feed(self, text: str) -> None:
        """Take a whole page."""
        handlers = {"start": self.handle_starttag, "end": self.handle_endtag, "text": self.handle_data}
        for token in tokenize(text):
            handlers[token.kind](token.value)
        self._emit()

    def handle_starttag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.HEADINGS:
            self._emit()
            self._heading = self.HEADINGS[tag]
        elif tag in self.BLOCK:
            self._emit()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.HEADINGS and self._heading:
            text = " ".join("".join(self._buffer).split())
            self._buffer = []
            self.builder.heading(self._heading, text)
            if self._heading == 1 and not self.title:
                self.title = text
            self._heading = None
        elif tag in self.BLOCK:
            self._emit()

    def handle_data(self, data: str) -> None:
        if self._in_title and not self.title:
            self.title = " ".join(data.split())
        elif not self._skip and not self._in_title:
            self._buffer.append(data)

    def _emit(self) -> None:
        if self._heading is None:
            self.builder.add_text(" ".join("".join(self._buffer).split()))
            self._buffer = []


def parse_html(data: bytes, name: str) -> ParsedDocument:
    """Visible text of an HTML page; h1–h6 build the heading path; scripts and styles dropped."""
    parser = _HTMLText()
    parser.feed(_decode(data))
    return ParsedDocument(title=parser.title or _fallback_title(name), kind="html",
                          sections=parser.builder.sections())


# --- Plain text ------------------------------------------------------------------------------------------

def parse_text(data: bytes, name: str) -> ParsedDocument:
    """Plain UTF-8 text; the first non-empty line is the title if it is short."""
    text = _decode(data).replace("\r\n", "\n").strip()
    first = text.split("\n", 1)[0].strip()
    title = first if 0 < len(first) <= 120 else _fallback_title(name)
    return ParsedDocument(title=title, kind="text", sections=[Section(text=text)])


PARSERS = {"pdf": parse_pdf, "docx": parse_docx, "markdown": parse_markdown, "html": parse_html,
           "text": parse_text}
