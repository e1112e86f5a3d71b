"""Citations: which [n] an answer uses, and grounding — only citations of sources that were given survive.

A model may cite a source it was not given ([7] of 4), write "[bron 2]", or cite nothing at all. `ground`
keeps the valid numbers, removes the invalid ones (a bracket with none left goes entirely), and appends a
note when no valid citation remains, so the reader knows the answer is not supported by the documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LABEL = r"(?:bron|source|src)?\s*"
CITATION = re.compile(r"\[\s*" + _LABEL + r"(\d+(?:\s*(?:[,;]|en|and)\s*" + _LABEL + r"\d+)*)\s*\]", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s*(?:[,;]|\ben\b|\band\b)\s*(?:bron|source|src)?\s*", re.IGNORECASE)
UNSUPPORTED = {
    "nl": "Let op: dit antwoord verwijst niet naar een van de gevonden bronnen. Ik kon er in de documenten geen"
          " onderbouwing voor vinden; controleer de bronnen hieronder voordat u het gebruikt.",
    "en": "Note: this answer does not refer to any of the sources found. I could not find support for it in the"
          " documents; check the sources below before you use it.",
}


@dataclass(frozen=True)
class Grounded:
    """An answer after grounding: its text, the valid citations in order of first use, the invalid ones."""

    text: str
    cited: list[int]
    invalid: list[int]
    supported: bool


def _numbers(group: str) -> list[int]:
    return [int(n) for n in _SEPARATOR.split(group.strip()) if n.isdigit()]


def cited_numbers(answer: str, available: int) -> list[int]:
    """Source numbers cited as [n] (or [n, m]) that exist among ``available`` sources, in order of first use."""
    seen: list[int] = []
    for match in CITATION.finditer(answer):
        for n in _numbers(match.group(1)):
            if 1 <= n <= available and n not in seen:
                seen.append(n)
    return seen


def ground(answer: str, available: int, language: str = "nl") -> Grounded:
    """Keep only citations of sources 1..``available``; without any, append a could-not-find-support note."""
    cited: list[int] = []
    invalid: list[int] = []

    def rewrite(match: re.Match[str]) -> str:
        valid = []
        for n in _numbers(match.group(1)):
            if 1 <= n <= available:
                valid.append(n)
                if n not in cited:
                    cited.append(n)
            elif n not in invalid:
                invalid.append(n)
        return "[" + ", ".join(str(n) for n in dict.fromkeys(valid)) + "]" if valid else ""

    text = CITATION.sub(rewrite, answer)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()
    supported = bool(cited)
    if not supported:
        note = UNSUPPORTED.get(language, UNSUPPORTED["nl"])
        text = f"{text}\n\n{note}" if text else note
    return Grounded(text, cited, invalid, supported)
