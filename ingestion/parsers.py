"""Parsers: bytes of a file in, a ParsedDocument out. The file type is sniffed from content, then the name.

Every failure is a DocumentError with a one-line reason; nothing here touches the index.
"""

from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from baken.errors import DocumentError, UnsupportedDocument
from ingestion.document import ParsedDocument, Section

TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
                 ".txt": "text", ".text": "text", "": "text"}
SUPPORTED = "PDF, DOCX, HTML, Markdown and plain text"


def sniff(data: bytes, name: str) -> str:
    """The document kind (pdf, docx, html, markdown, text) from the first bytes, falling back on the name."""
    suffix = Path(name).suffix.lower()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = set(archive.namelist())
        except zipfile.BadZipFile as exc:
            raise DocumentError(f"damaged ZIP container ({exc})") from None
        if "word/document.xml" in members:
            return "docx"
        if "xl/workbook.xml" in members:
            raise UnsupportedDocument("spreadsheets (XLSX) are not supported yet; save the sheet as PDF first")
        raise UnsupportedDocument(f"ZIP archive that is not a Word document; Baken reads {SUPPORTED}")
    if suffix == ".pdf":
        raise DocumentError("not a PDF: the content does not start with %PDF (damaged or renamed file)")
    if suffix in {".docx", ".xlsx"}:
        raise DocumentError(f"not a valid {suffix[1:].upper()} file (damaged or renamed)")
    if suffix not in TEXT_SUFFIXES:
        raise UnsupportedDocument(f"unsupported file type {suffix!r}; Baken reads {SUPPORTED}")
    if b"\x00" in data[:8192]:
        raise UnsupportedDocument("binary content in a text file")
    kind = TEXT_SUFFIXES[suffix]
    if kind == "text" and re.match(rb"\s*(<!doctype html|<html)", data[:1024], re.IGNORECASE):
        return "html"
    return kind


def parse(data: bytes, name: str) -> ParsedDocument:
    """Parse a file's bytes; raises DocumentError (or UnsupportedDocument) with the reason."""
    if not data.strip():
        raise DocumentError("empty file")
    kind = sniff(data, name)
    document = PARSERS[kind](data, name)
    if not any(s.text.strip() for s in document.sections):
        hint = " (a scanned PDF without a text layer?)" if kind == "pdf" else ""
        raise DocumentError(f"no text found{hint}")
    return document


def _fallback_title(name: str) -> str:
    return Path(name).stem.replace("_", " ").replace("-", " ").strip() or name


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not valid UTF-8 text (byte {exc.start}); save the file as UTF-8") from None


# --- PDF -------------------------------------------------------------------------------------------------

def parse_pdf(data: bytes, name: str) -> ParsedDocument:
    """Text per page with pypdf; encrypted PDFs without an empty user password are refused."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("encrypted PDF; remove the password and upload it again")
        title = (reader.metadata.title if reader.metadata else None) or ""
        sections = []
        for number, page in enumerate(reader.pages, start=1):
            text = _clean_pdf_text(page.extract_text() or "")
            if text:
                sections.append(Section(text=text, page=number))
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise DocumentError(f"damaged PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not title.strip() and sections:
        title = sections[0].text.strip().splitlines()[0][:120]
    return ParsedDocument(title=title.strip() or _fallback_title(name), kind="pdf", sections=sections)


def _clean_pdf_text(text: str) -> str:
    text = re.sub(r"-\n(?=[a-z])", "", text)  # words hyphenated across lines
    text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


# --- DOCX ------------------------------------------------------------------------------------------------

def parse_docx(data: bytes, name: str) -> ParsedDocument:
    """Paragraphs and tables in order; Word heading styles build the heading path."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 (python-docx raises many types for broken packages)
        raise DocumentError(f"damaged DOCX ({type(exc).__name__})") from None
    title = document.core_properties.title or ""
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

FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)\s*\n(.*?)\n(?:---|\+\+\+)\s*(?:\n|\Z)", re.DOTALL)
MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def parse_markdown(data: bytes, name: str) -> ParsedDocument:
    """Front matter removed (its title kept), ATX headings build the heading path, markup lightly stripped."""
    text = _decode(data).replace("\r\n", "\n")
    title = ""
    front = FRONT_MATTER.match(text)
    if front:
        found = re.search(r"^title:\s*['\"]?(.*?)['\"]?\s*$", front.group(1), re.MULTILINE)
        title = found.group(1) if found else ""
        text = text[front.end():]
    builder = _SectionBuilder()
    fence = None
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fence = None if fence and stripped.startswith(fence) else (fence or stripped[:3])
            continue
        heading = None if fence else MD_HEADING.match(line)
        if heading:
            level, text_of_heading = len(heading.group(1)), _strip_inline(heading.group(2))
            builder.heading(level, text_of_heading)
            title = title or (text_of_heading if level == 1 else "")
        else:
            builder.add_text(_strip_inline(line) if not fence else line)
    return ParsedDocument(title=title.strip() or _fallback_title(name), kind="markdown",
                          sections=builder.sections())


def _strip_inline(line: str) -> str:
    line = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", line)           # images
    line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)       # links keep their text
    line = re.sub(r"<[^>]{1,200}>", " ", line)                 # stray HTML tags
    line = re.sub(r"\{[:#.][^}]*\}", "", line)                 # attribute lists {: .class}
    return re.sub(r"[ \t]+", " ", line).strip()


# --- HTML ------------------------------------------------------------------------------------------------

class _HTMLText(HTMLParser):
    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    BLOCK = frozenset({"p", "div", "li", "tr", "br", "section", "article", "table", "ul", "ol", "blockquote", "pre",
             "dd", "dt", "figcaption"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = _SectionBuilder()
        self.title = ""
        self._skip = 0
        self._in_title = False
        self._heading: int | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self._emit()
            self._heading = int(tag[1])
        elif tag in self.BLOCK:
            self._emit()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag) and self._heading:
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
    parser.close()
    parser._emit()
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
