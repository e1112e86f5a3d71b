"""Markup and plain text: Markdown, HTML and text files, and the heading path that DOCX shares with them.

Every pattern here runs in linear time on any input (see the note on the Markdown patterns).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from ingestion.document import ParsedDocument, Section
from ingestion.formats.encoding import decode as _decode
from ingestion.html_tokens import tokenize


def _fallback_title(name: str) -> str:
    return Path(name).stem.replace("_", " ").replace("-", " ").strip() or name


class SectionBuilder:
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
    builder = SectionBuilder()
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
        self.builder = SectionBuilder()
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
