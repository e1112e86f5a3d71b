"""PowerPoint (PPTX) with python-pptx: one section per slide, heading its title, page its number, the text
of every shape (groups and tables included) and the speaker notes."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from core.errors import DocumentError
from ingestion.document import ParsedDocument, Section


def parse_pptx(data: bytes, name: str, title: str) -> ParsedDocument:
    """The slides' text; a presentation of images only is refused with that reason."""
    from pptx import Presentation

    try:
        presentation = Presentation(io.BytesIO(data))
        title = presentation.core_properties.title or title
        sections = []
        for number, slide in enumerate(presentation.slides, start=1):
            heading = " ".join((slide.shapes.title.text if slide.shapes.title is not None else "").split())
            lines = [t for t in _texts(slide.shapes) if " ".join(t.split()) != heading]
            if slide.has_notes_slide:
                notes = slide.notes_slide.notes_text_frame
                if notes is not None and notes.text.strip():
                    lines.append("Notities: " + notes.text.strip())
            if lines or heading:
                sections.append(Section(text="\n".join(lines) or heading, heading=(heading or f"Dia {number}",),
                                        page=number))
    except Exception as exc:  # noqa: BLE001 (python-pptx raises many types for broken packages)
        raise DocumentError(f"beschadigd PPTX-bestand ({type(exc).__name__})") from None
    if not sections:
        raise DocumentError("de presentatie bevat geen tekst (alleen afbeeldingen?); sla de dia's met tekst op"
                            " of als PDF met een tekstlaag")
    return ParsedDocument(title=title.strip(), kind="pptx", sections=sections)


def _texts(shapes: Iterable) -> Iterator[str]:  # type: ignore[type-arg]
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _texts(shape.shapes)
        elif shape.has_table:
            for row in shape.table.rows:
                cells = [" ".join(c.text.split()) for c in row.cells]
                if any(cells):
                    yield " | ".join(c for c in cells if c)
        elif shape.has_text_frame and shape.text_frame.text.strip():
            yield shape.text_frame.text.strip()


def preload() -> None:
    """Import python-pptx now (the sandbox worker does so before its memory limit is set)."""
    import pptx  # noqa: F401
