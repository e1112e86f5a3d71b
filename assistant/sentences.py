"""Sentence splitting for Dutch (and English) policy text and model answers: the units evidence is made of.

A unit is a sentence, a list item or a table row, with its character offsets in the text it came from, so it
can be highlighted there. A full stop ends a sentence unless it belongs to an abbreviation ("bijv.", "o.a.",
"art.", "nr.", "mr."), an initial ("J. de Vries"), or a number ("1.000", "9.30 uur", "art. 5.1"). Every
pattern here is linear: no nested quantifiers, so a text without boundaries costs one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_UNIT_CHARS = 600  # a "sentence" longer than this (a table cell dump, no punctuation) is cut at a space
MIN_UNIT_CHARS = 12
# Lower-case forms, without their final full stop; dotted ones are matched as written ("o.a").
ABBREVIATIONS = frozenset(["a.d", "al", "alg", "art", "bijv", "bv", "blz", "ca", "cf", "co", "d.d", "d.i", "d.m.v", "d.w.z", "dhr", "dr", "drs", "e.a", "e.d", "e.e.a", "e.g", "enz", "etc", "evt", "excl", "fig", "gem", "i.c", "i.e", "i.o", "i.p.v", "i.s.m", "i.v.m", "incl", "ing", "ir", "jl", "jr", "lid", "max", "mevr", "min", "mr", "mw", "n.a.v", "nl", "no", "nr", "o.a", "o.b.v", "o.m", "p.m", "pag", "par", "prof", "resp", "sr", "st", "t.a.v", "t.b.v", "t.g.v", "t.o.v", "t.w", "vgl", "vs", "zgn", "z.s.m", "z.o.z", "e.v", "vnl", "blz", "ex"])
_LINE_ITEM = re.compile(r"[ \t]*(?:[-*•–]|\d{1,3}[.)]|[a-z][.)])[ \t]+")
_TABLE_ROW = re.compile(r"[ \t]*\|")
_BREAK = re.compile(r"[.!?]+[\"')\]]*(?=\s)|[.!?]+[\"')\]]*$")


@dataclass(frozen=True)
class Unit:
    """A sentence, list item or table row: its text and where it lies in its source (``text[start:end]``)."""

    text: str
    start: int
    end: int
    lead: str = ""  # for a list item: the line that introduces the list ("De bewaartermijnen zijn:")


def split_units(text: str) -> list[Unit]:
    """The sentences, list items and table rows of ``text``, in order, with their offsets; blanks skipped."""
    units: list[Unit] = []
    lead = ""
    for kind, start, end in _blocks(text):
        if kind == "heading":  # a heading line is context, not a statement
            lead = text[start:end].lstrip("# ")
        elif kind == "item":
            units += [Unit(u.text, u.start, u.end, lead) for u in _cut(text[start:end], start)]
        else:
            sentences = _sentences(text[start:end], start)
            units += sentences
            lead = sentences[-1].text if sentences else ""
    return [u for u in units if len(u.text) >= MIN_UNIT_CHARS or any(ch.isdigit() for ch in u.text)]


def _blocks(text: str) -> list[tuple[str, int, int]]:
    """The text's headings, list items or table rows, and paragraphs, as (kind, start, end) without surrounding
    blanks. A line that continues a sentence the line before left open (hard-wrapped text: that line ends
    without punctuation and this one starts in lower case) joins that line's paragraph."""
    blocks: list[tuple[str, int, int]] = []
    position = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        begin = position + (len(line) - len(line.lstrip()))
        position += len(line)
        end = begin + len(stripped)
        if not stripped or set(stripped) <= set("|-: "):
            continue  # a blank line or a table rule
        if stripped.startswith("#"):
            blocks.append(("heading", begin, end))
        elif _TABLE_ROW.match(line) or _LINE_ITEM.match(line):
            blocks.append(("item", begin, end))
        elif blocks and blocks[-1][0] == "plain" and text[blocks[-1][2] - 1] not in ".!?:;" \
                and (stripped[0].islower() or stripped[0].isdigit() or stripped[0] in "(€%"):
            blocks[-1] = ("plain", blocks[-1][1], end)
        else:
            blocks.append(("plain", begin, end))
    return blocks


def _sentences(line: str, offset: int) -> list[Unit]:
    units: list[Unit] = []
    start = 0
    for match in _BREAK.finditer(line):
        end = match.end()
        if match.group(0).startswith(".") and _not_a_boundary(line, match.start(), end):
            continue
        units += _unit(line, start, end, offset)
        start = end
    units += _unit(line, start, len(line), offset)
    return units


def _not_a_boundary(line: str, dot: int, end: int) -> bool:
    """True when the full stop at ``dot`` belongs to an abbreviation, an initial or a number."""
    begin = dot
    while begin > 0 and dot - begin < 24 and not line[begin - 1].isspace() and line[begin - 1] not in "([\"'":
        begin -= 1
    word = line[begin:dot]
    following = line[end:end + 2].lstrip()
    if word.lower().rstrip(".") in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha() and word.isupper():
        return True  # an initial: "J. de Vries"
    if "." in word and len(word) <= 6 and word.replace(".", "").isalpha() and word[:1].islower():
        return True  # an unlisted dotted abbreviation: "a.s.", "t.z.t."
    return bool(following[:1].islower())  # a sentence does not start in lower case


def _unit(line: str, start: int, end: int, offset: int) -> list[Unit]:
    piece = line[start:end]
    lead = len(piece) - len(piece.lstrip())
    piece = piece.strip()
    return _cut(piece, offset + start + lead) if piece else []


def _cut(text: str, offset: int) -> list[Unit]:
    """``text`` as one unit, or several cut at spaces when it is longer than MAX_UNIT_CHARS."""
    units = []
    while len(text) > MAX_UNIT_CHARS:
        cut = text.rfind(" ", 0, MAX_UNIT_CHARS)
        cut = cut if cut > MAX_UNIT_CHARS // 2 else MAX_UNIT_CHARS
        units.append(Unit(text[:cut].rstrip(), offset, offset + len(text[:cut].rstrip())))
        skipped = len(text[cut:]) - len(text[cut:].lstrip())
        offset, text = offset + cut + skipped, text[cut:].lstrip()
    if text:
        units.append(Unit(text, offset, offset + len(text)))
    return units
