"""Citations: which [n] an answer uses."""

from __future__ import annotations

import re

CITATION = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")


def cited_numbers(answer: str, available: int) -> list[int]:
    """Source numbers cited as [n] (or [n, m]) that exist among ``available`` sources, in order of first use."""
    seen: list[int] = []
    for match in CITATION.finditer(answer):
        for number in re.split(r"\s*[,;]\s*", match.group(1)):
            n = int(number)
            if 1 <= n <= available and n not in seen:
                seen.append(n)
    return seen
