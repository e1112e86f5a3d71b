"""A linear-time HTML tokenizer: start tags, end tags and text, enough to take the visible text of a page.

The standard library's HTMLParser rescans the rest of the input for every unterminated construct (``<a <a
<a …`` takes minutes for 150 KB on Python 3.11). Here every scan starts after the previous token ends, and
a construct without an end (no ``>`` after it, a comment without ``-->``) ends the document: the rest
cannot hold another complete tag, so nothing is ever scanned twice.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import NamedTuple

TAG_NAME = re.compile(r"[a-zA-Z][^\s/>]{0,63}")
# A start tag's rest up to its ">", with quoted attribute values (which may hold ">"). Each repetition
# consumes a quote pair, so the match is linear; a failure marks quotes as unusable for the rest.
TAG_REST = re.compile(r"""[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")
RAW_TEXT = {tag: re.compile(f"</{tag}", re.IGNORECASE)
            for tag in ("script", "style", "textarea", "title", "xmp", "noscript", "template")}


class Token(NamedTuple):
    """``kind`` is start, end or text; ``value`` is the lower-case tag name or the (unescaped) text."""

    kind: str
    value: str


def tokenize(text: str) -> Iterator[Token]:
    """Tokens of ``text`` in order; malformed markup becomes text or is dropped, never an error."""
    position, length, quotes = 0, len(text), True
    while position < length:
        opening = text.find("<", position)
        if opening < 0:
            yield Token("text", html.unescape(text[position:]))
            return
        if opening > position:
            yield Token("text", html.unescape(text[position:opening]))
        following = text[opening + 1:opening + 2]
        if text.startswith("<!--", opening):
            close = text.find("-->", opening + 4)
            if close < 0:
                return
            position = close + 3
        elif following in ("!", "?") or (following == "/" and not TAG_NAME.match(text, opening + 2)):
            close = text.find(">", opening + 2)
            if close < 0:
                return
            position = close + 1
        elif following == "/":
            name = TAG_NAME.match(text, opening + 2)
            assert name is not None
            close = text.find(">", name.end())
            if close < 0:
                return
            yield Token("end", name.group().lower())
            position = close + 1
        elif (name := TAG_NAME.match(text, opening + 1)) is not None:
            rest = TAG_REST.match(text, name.end()) if quotes else None
            if rest is None:
                quotes = False
                close = text.find(">", name.end())
                if close < 0:
                    return
                end = close + 1
            else:
                end = rest.end()
            tag = name.group().lower()
            yield Token("start", tag)
            position = end
            if tag in RAW_TEXT and text[end - 2:end] != "/>":
                found = RAW_TEXT[tag].search(text, end)
                if found is None:
                    return
                close = found.start()
                yield Token("text", html.unescape(text[end:close]) if tag in ("title", "textarea") else
                            text[end:close])
                position = close
        else:
            yield Token("text", "<")
            position = opening + 1
