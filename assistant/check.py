"""Every generated sentence checked against the sources the model was given.

A sentence is supported by a source when every number it states (amounts, dates, durations, also written
as words) occurs in that source, and its content words are covered by that source (stemmed, IDF-weighted,
compounds matching their parts) at least MIN_SUPPORT, or its embedding is at least MIN_SIMILARITY close to
one of that source's sentences. Baken then cites that source itself: the model's own [n] is kept only if it
names the supporting source, so an invented or wrong [n] is corrected. A sentence without support is not
shown as fact. Both thresholds were calibrated with `python -m bench.answers --calibrate-check` on the answer
set's quotes (and their first two thirds) against the chunks retrieved for their questions, beside other
rows' quotes: supported quotes cover at least 0.87 of their words, the others at most 0.57 (unless the same
text stands in both documents); similarities 0.68 at most for the others. Each threshold sits in its gap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.citations import CITATION, cited_numbers
from assistant.sentences import split_units
from assistant.terms import Bag, Terms, cosine, has_placeholder, plain

Embed = Callable[[Sequence[str]], list[list[float]]]
MIN_SUPPORT = 0.7
MIN_SIMILARITY = 0.8
MIN_WORDS = 2  # a "sentence" with fewer content words and no number ("Zie hieronder.") is left out
_CITATIONS = re.compile(r"\s*" + CITATION.pattern, CITATION.flags)  # a citation with the space before it


@dataclass(frozen=True)
class CheckedSentence:
    """One sentence of the answer: its text without citations, whether a source supports it, and which."""

    text: str
    supported: bool
    source: int | None  # the supporting source's number
    reason: str  # supported | number (a number no source states) | content (too little of it in any source)
    support: float  # the best coverage found
    model_cited: tuple[int, ...] = ()

    def shown(self) -> str:
        """The sentence as shown when supported: with Baken's own citation before its closing punctuation."""
        return with_citation(self.text, self.source) if self.supported else self.text

    def record(self) -> dict[str, object]:
        """The sentence for ``ask --json`` and the audit record."""
        return {"text": self.text, "supported": self.supported, "source": self.source, "reason": self.reason,
                "support": self.support, "model_cited": list(self.model_cited)}


class Checker:
    """Checks answers against numbered source texts with one `Terms` (and optionally an embedder)."""

    def __init__(self, terms: Terms, embed: Embed | None = None, min_support: float = MIN_SUPPORT,
                 min_similarity: float = MIN_SIMILARITY) -> None:
        self._terms = terms
        self._embed = embed
        self.min_support = min_support
        self.min_similarity = min_similarity

    def check(self, answer: str, sources: Sequence[tuple[Any, ...]]) -> list[CheckedSentence]:
        """The answer's sentences, each checked against ``sources`` ((n, text, context) as the model saw them;
        the context, the chunk's title and heading, counts as words of the source)."""
        bags = [(n, self._terms.bag(f"{text}\n{context}"), text) for n, text, context, *_ in sources]
        checked = []
        for unit in split_units(answer):
            text = _CITATIONS.sub("", unit.text).strip()
            model_cited = tuple(cited_numbers(unit.text, max((s[0] for s in sources), default=0) + 50))
            bag = self._terms.bag(text)
            if len(bag.words) < MIN_WORDS and not bag.numbers and not has_placeholder(text):
                continue
            checked.append(self._check_one(text, bag, bags, model_cited))
        return self._with_similarity(checked, sources)

    def _check_one(self, text: str, bag: Bag, bags: list[tuple[int, Bag, str]],
                   model_cited: tuple[int, ...]) -> CheckedSentence:
        weights = self._terms.weights(bag.words)
        best_n, best, numbers_anywhere = None, 0.0, False
        for n, source, _ in bags:
            if not bag.numbers <= source.numbers:
                continue
            numbers_anywhere = True
            coverage = self._terms.coverage(bag, source, weights) if bag.words else 1.0
            if coverage > best or (coverage == best and n in model_cited):
                best_n, best = n, coverage
        if not numbers_anywhere:
            return CheckedSentence(text, False, None, "number", 0.0, model_cited)
        if best >= self.min_support:
            return CheckedSentence(text, True, best_n, "supported", best, model_cited)
        return CheckedSentence(text, False, best_n, "content", best, model_cited)

    def similarities(self, texts: Sequence[str], sources: Sequence[tuple[Any, ...]]) -> list[tuple[float, int | None]]:
        """Per text, its best embedding similarity to a sentence of a source that states all its numbers, and
        that source's number ((-1.0, None) without an embedder or such a source)."""
        units = [(n, u.text) for n, text, *_ in sources for u in split_units(plain(text))]
        if self._embed is None or not units or not texts:
            return [(-1.0, None)] * len(texts)
        vectors = self._embed([*texts, *(t for _, t in units)])
        text_vectors, unit_vectors = vectors[:len(texts)], vectors[len(texts):]
        allowed = {n: self._terms.bag(text).numbers for n, text, *_ in sources}
        best = []
        for text, vector in zip(texts, text_vectors):
            numbers = self._terms.bag(text).numbers
            scored = [(cosine(vector, v), n) for (n, _), v in zip(units, unit_vectors) if numbers <= allowed[n]]
            best.append(max(scored) if scored else (-1.0, None))
        return best

    def _with_similarity(self, checked: list[CheckedSentence],
                         sources: Sequence[tuple[Any, ...]]) -> list[CheckedSentence]:
        """Content-unsupported sentences get a second chance: embedding similarity to one source sentence."""
        pending = [i for i, c in enumerate(checked) if c.reason == "content"]
        if not pending:
            return checked
        for i, (similarity, n) in zip(pending, self.similarities([checked[i].text for i in pending], sources)):
            if n is not None and similarity >= self.min_similarity:
                c = checked[i]
                checked[i] = CheckedSentence(c.text, True, n, "supported", c.support, c.model_cited)
        return checked


def with_citation(text: str, n: int | None) -> str:
    """``text`` with the citation [n] before its closing punctuation."""
    body = text.rstrip(".!?;:")
    return f"{body} [{n}]{text[len(body):]}"


def present(mode: str, checked: Sequence[CheckedSentence], min_supported: float) -> list[str]:
    """How each checked sentence is shown in ``mode``: "shown" (supported), "marked" (generative mode,
    unsupported), "removed" (auto mode, unsupported) or "withheld" (extractive mode, or auto mode when less than
    ``min_supported`` of the answer is supported)."""
    if mode == "generative":
        return ["shown" if c.supported else "marked" for c in checked]
    if mode == "auto" and checked and supported_share(checked) >= min_supported:
        return ["shown" if c.supported else "removed" for c in checked]
    return ["withheld"] * len(checked)


def supported_share(checked: Sequence[CheckedSentence]) -> float:
    """The share of checked sentences that a source supports (0.0 for an answer with none)."""
    return sum(c.supported for c in checked) / len(checked) if checked else 0.0

