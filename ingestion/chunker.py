"""Cut a parsed document into chunks that fit the embedder's window, with overlap, keeping heading and page."""

from __future__ import annotations

import re
from collections.abc import Callable

from ingestion.document import Chunk, ParsedDocument

TokenCounter = Callable[[str], int]
SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=[\"'(\[]?[A-Z0-9À-Ý•\-])")


def chunk_document(
    document: ParsedDocument, doc_id: str, count_tokens: TokenCounter, max_tokens: int, overlap: int
) -> list[Chunk]:
    """Chunks of at most ``max_tokens`` word pieces (header included); chunks never cross sections."""
    chunks: list[Chunk] = []
    for section in document.sections:
        heading = " > ".join(section.heading)
        header = _header(document.title, heading, section.page)
        budget = max(16, max_tokens - count_tokens(header))
        for body in _pack(_units(section.text, count_tokens, budget), budget, overlap):
            ordinal = len(chunks)
            chunks.append(Chunk(
                id=f"{doc_id[:20]}-{ordinal:05d}", doc_id=doc_id, ordinal=ordinal, text=body,
                title=document.title, heading=heading, page=section.page, embed_text=f"{header}\n{body}",
            ))
    return chunks


def embed_text(title: str, heading: str, page: int | None, body: str) -> str:
    """What the embedder reads of a chunk: its header line (title, heading, page) and its text; a stored chunk's
    metadata gives it back (re-embedding)."""
    return f"{_header(title, heading, page)}\n{body}"


def _header(title: str, heading: str, page: int | None) -> str:
    parts = [title]
    if heading and heading != title:
        parts.append(heading)
    if page:
        parts.append(f"p. {page}")
    return " — ".join(parts)


def _units(text: str, count_tokens: TokenCounter, budget: int) -> list[tuple[str, int]]:
    """Paragraphs, split into sentences and then word runs where they exceed the budget, with token counts."""
    units: list[tuple[str, int]] = []
    for paragraph in re.split(r"\n\s*\n|\n(?=[-*•]\s|\d+[.)]\s)", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        size = count_tokens(paragraph)
        if size <= budget:
            units.append((paragraph, size))
            continue
        for sentence in SENTENCE_END.split(paragraph):
            size = count_tokens(sentence)
            if size <= budget:
                units.append((sentence, size))
            else:
                units.extend(_split_words(sentence, count_tokens, budget))
    return units


def _split_words(sentence: str, count_tokens: TokenCounter, budget: int) -> list[tuple[str, int]]:
    words = sentence.split()
    pieces: list[tuple[str, int]] = []
    start = 0
    while start < len(words):
        # Grow a window by halves: word pieces per word vary too much to guess.
        end = min(len(words), start + max(1, budget // 2))
        while end < len(words) and count_tokens(" ".join(words[start:end + 8])) <= budget:
            end += 8
        while end > start + 1 and count_tokens(" ".join(words[start:end])) > budget:
            end -= 1
        piece = " ".join(words[start:end])
        pieces.append((piece, count_tokens(piece)))
        start = end
    return pieces


def _pack(units: list[tuple[str, int]], budget: int, overlap: int) -> list[str]:
    """Greedy packing; each new chunk starts with the previous chunk's last units up to ``overlap`` tokens."""
    bodies: list[str] = []
    current: list[tuple[str, int]] = []
    fresh = 0  # units in `current` that are not overlap
    for unit in units:
        size = sum(s for _, s in current)
        if current and size + unit[1] > budget and fresh:
            bodies.append("\n".join(t for t, _ in current))
            carried: list[tuple[str, int]] = []
            for previous in reversed(current):
                kept = sum(s for _, s in carried) + previous[1]
                if kept > overlap or kept + unit[1] > budget:
                    break
                carried.insert(0, previous)
            current, fresh = carried, 0
        current.append(unit)
        fresh += 1
    if current and fresh:
        bodies.append("\n".join(t for t, _ in current))
    return bodies
