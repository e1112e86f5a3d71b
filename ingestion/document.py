"""What a parser produces and what the chunker cuts: plain data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path, on one page (``page`` is 1-based, or None for paged-less formats)."""

    text: str
    heading: tuple[str, ...] = ()
    page: int | None = None


@dataclass
class ParsedDocument:
    """A document's title and its text, in reading order."""

    title: str
    kind: str
    sections: list[Section] = field(default_factory=list)

    @property
    def text_length(self) -> int:
        """Characters of text in all sections."""
        return sum(len(s.text) for s in self.sections)


@dataclass(frozen=True)
class Chunk:
    """A piece of a document sized for the embedder, with where it came from."""

    id: str
    doc_id: str
    ordinal: int
    text: str
    title: str
    heading: str
    page: int | None
    embed_text: str
