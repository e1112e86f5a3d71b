"""OpenDocument (ODT, ODS, ODP) with odfpy: headings and paragraphs with the page they are on (counted from
the soft page breaks an office suite writes), tables as rows, sheets as `ingestion.formats.rows`, slides one
section each with their notes.

The container was checked by `ingestion.archive` before this module sees it; an encrypted document (its
manifest holds encryption data) is refused before odfpy reads anything.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from core.errors import DocumentError
from ingestion.document import ParsedDocument, Section
from ingestion.formats.limits import FormatLimits
from ingestion.formats.rows import sheet_sections

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
PRESENTATION = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
KINDS = {f"application/vnd.oasis.opendocument.{name}{template}": kind  # templates (.ott, .ots, .otp) read alike
         for name, kind in (("text", "odt"), ("spreadsheet", "ods"), ("presentation", "odp"))
         for template in ("", "-template")}
ELEMENT = 1


def odf_kind(archive: zipfile.ZipFile) -> str | None:
    """odt, ods or odp from the container's ``mimetype`` member (None for another ZIP); refuses encryption."""
    if "mimetype" not in archive.namelist():
        return None
    kind = KINDS.get(archive.read("mimetype")[:100].decode("ascii", "replace").strip())
    if kind and "META-INF/manifest.xml" in archive.namelist() \
            and b"encryption-data" in archive.read("META-INF/manifest.xml"):
        raise DocumentError("versleuteld OpenDocument-bestand; sla het op zonder wachtwoord en lees het opnieuw in")
    return kind


def parse_odf(data: bytes, kind: str, title: str, limits: FormatLimits) -> ParsedDocument:
    """An ODT, ODS or ODP document's sections."""
    from odf import opendocument, teletype

    try:
        document = opendocument.load(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 (odfpy raises many types for broken packages)
        raise DocumentError(f"beschadigd {kind.upper()}-bestand ({type(exc).__name__})") from None
    body = next((c for c in document.body.childNodes if c.nodeType == ELEMENT), None)
    if body is None:
        raise DocumentError(f"beschadigd {kind.upper()}-bestand (geen inhoud)")
    meta_title = "".join(teletype.extractText(t) for t in document.meta.childNodes
                         if t.nodeType == ELEMENT and t.qname[1] == "title").strip()
    if kind == "ods":
        sections = [s for table in _elements(body, TABLE, "table")
                    for s in sheet_sections(table.getAttrNS(TABLE, "name") or "Blad", _rows(table, limits), limits)]
    elif kind == "odp":
        sections = _slides(body, teletype.extractText)
    else:
        builder = _Pages(teletype.extractText)
        builder.walk(body)
        sections = builder.finish()
        meta_title = meta_title or builder.first_heading
    return ParsedDocument(title=meta_title or title, kind=kind, sections=sections)


def _elements(node: object, namespace: str, tag: str) -> list:  # type: ignore[type-arg]
    return [c for c in node.childNodes if c.nodeType == ELEMENT and c.qname == (namespace, tag)]  # type: ignore[attr-defined]


class _Pages:
    """Text under the current heading path, with the page it is on."""

    def __init__(self, extract: object) -> None:
        self._extract = extract
        self._path: list[tuple[int, str]] = []
        self._lines: list[str] = []
        self._sections: list[Section] = []
        self._page = 1
        self.first_heading = ""

    def walk(self, node: object) -> None:
        """Read the children of ``node`` in order (lists and sections are descended into)."""
        for child in node.childNodes:  # type: ignore[attr-defined]
            if child.nodeType != ELEMENT:
                continue
            if child.qname == (TEXT, "soft-page-break"):
                self._flush()
                self._page += 1
                continue
            breaks = sum(1 for _ in _descendants(child, (TEXT, "soft-page-break")))
            if child.qname == (TEXT, "h"):
                self._heading(int(child.getAttrNS(TEXT, "outline-level") or 1), self._extract(child))  # type: ignore[operator]
            elif child.qname == (TEXT, "p"):
                self._text(self._extract(child))  # type: ignore[operator]
            elif child.qname == (TABLE, "table"):
                for row in _descendants(child, (TABLE, "table-row")):
                    cells = [" ".join(self._extract(c).split()) for c in row.childNodes  # type: ignore[operator]
                             if c.nodeType == ELEMENT and c.qname == (TABLE, "table-cell")]
                    self._text(" | ".join(dict.fromkeys(c for c in cells if c)))
                continue
            else:
                self.walk(child)
                continue
            if breaks:  # a break inside a paragraph: the text after it is on the next page
                self._flush()
                self._page += breaks

    def _heading(self, level: int, text: str) -> None:
        text = " ".join(text.split())
        if text:
            self._flush()
            self._path = [(lvl, t) for lvl, t in self._path if lvl < level] + [(level, text)]
            self.first_heading = self.first_heading or text

    def _text(self, text: str) -> None:
        if text.strip():
            self._lines.append(text.strip())

    def _flush(self) -> None:
        if self._lines:
            self._sections.append(Section(text="\n".join(self._lines), heading=tuple(t for _, t in self._path),
                                          page=self._page))
        self._lines = []

    def finish(self) -> list[Section]:
        """Every section, the last one included."""
        self._flush()
        return self._sections


def _descendants(node: object, qname: tuple[str, str], skip: tuple[str, str] | None = None) -> Iterator:  # type: ignore[type-arg]
    """Elements named ``qname`` under ``node`` in document order (not looking inside them, nor inside ``skip``)."""
    stack = list(reversed(node.childNodes))  # type: ignore[attr-defined]
    while stack:
        child = stack.pop()
        if child.nodeType != ELEMENT:
            continue
        if child.qname == qname:
            yield child
        elif child.qname != skip:
            stack.extend(reversed(child.childNodes))


def _rows(table: object, limits: FormatLimits) -> Iterator[list[str]]:
    """A sheet's rows with repeated rows and cells expanded, but never past the limits (a sheet saved with
    a million empty rows holds one row element repeated a million times)."""
    from odf import teletype

    for row in _descendants(table, (TABLE, "table-row")):
        cells: list[str] = []
        for cell in row.childNodes:
            if cell.nodeType != ELEMENT or cell.qname[0] != TABLE:
                continue
            text = " ".join(teletype.extractText(cell).split())
            repeat = int(cell.getAttrNS(TABLE, "number-columns-repeated") or 1)
            cells += [text] * min(repeat, limits.max_columns - len(cells))
            if len(cells) >= limits.max_columns:
                break
        repeat = int(row.getAttrNS(TABLE, "number-rows-repeated") or 1)
        if not any(cells):
            repeat = min(repeat, limits.max_empty_rows)
        for _ in range(min(repeat, limits.max_sheet_rows + 1)):
            yield cells


def _slides(presentation: object, extract: object) -> list[Section]:
    """One section per slide: heading its title (or name), page its number, the speaker notes after the text."""
    sections = []
    for number, slide in enumerate(_elements(presentation, DRAW, "page"), start=1):
        title, lines, notes = "", [], []
        for frame in _descendants(slide, (DRAW, "frame"), skip=(PRESENTATION, "notes")):
            text = "\n".join(t for t in (extract(p).strip() for p in _paragraphs(frame)) if t)  # type: ignore[operator]
            if frame.getAttrNS(PRESENTATION, "class") == "title" and not title:
                title = " ".join(text.split())
            elif text:
                lines.append(text)
        for note in _descendants(slide, (PRESENTATION, "notes")):
            notes += [t for t in (extract(p).strip() for p in _paragraphs(note)) if t]  # type: ignore[operator]
        if notes:
            lines.append("Notities: " + "\n".join(notes))
        if lines or title:
            sections.append(Section(text="\n".join(lines) or title,
                                    heading=(title or slide.getAttrNS(DRAW, "name") or f"Dia {number}",),
                                    page=number))
    return sections


def _paragraphs(node: object) -> Iterator:  # type: ignore[type-arg]
    stack = list(reversed(node.childNodes))  # type: ignore[attr-defined]
    while stack:
        child = stack.pop()
        if child.nodeType != ELEMENT:
            continue
        if child.qname in ((TEXT, "p"), (TEXT, "h")):
            yield child
        elif child.qname != (PRESENTATION, "notes"):
            stack.extend(reversed(child.childNodes))


def preload() -> None:
    """Import odfpy now (the sandbox worker does so before its memory limit is set)."""
    import odf.opendocument  # noqa: F401
