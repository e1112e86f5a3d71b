"""Evidence first: the one to three sentences (list items, table rows) of the retrieved sources that best answer
the question, chosen by Baken itself, deterministically, before any model token.

A unit scores by the share of the question's words it contains (stemmed, IDF-weighted, compounds matching
their parts), by whether it holds what the question asks for (a number, a duration, a date, a role, yes or
no: `assistant.questions`), and by its chunk's retrieval rank and embedding similarity to the question (the
cosine retrieval already computed). Embedding the sentences themselves was measured too: it cost an
embedding call (about 60 ms for six sentences on 2 cores, far more on a loaded machine) and did not change
the selection on bench/answers.jsonl, so it is not done.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.questions import WANTS, asked_form, asks_amount, counted, question_kind, without_question_words
from assistant.sentences import split_units
from assistant.terms import NUMBER_WORDS, Bag, Terms, normalise, numbers, plain

MAX_EVIDENCE = 3
KEEP_SHARE = 0.8  # a second or third unit is shown if it scores at least this share of the best
KIND_BONUS = {"duration": 0.3, "number": 0.25, "date": 0.25, "role": 0.2, "yes_no": 0.08}
RANK_WEIGHT = 0.15
CHUNK_DENSE_WEIGHT = 0.2
UNFIT_SHARE = 0.5  # what evidence without the kind asked for counts for in the "has a source" signal
NAMED = 2  # question words one unit must name for the question to have a source (all, if fewer; 1 for a follow-up)
NAMED_MATCH = 0.5  # how much of a word a unit must hold to name it (a compound's modifier counts, `compound_match`)
# A number and the one or two words after it: "5 werkdagen", "3 dagen per week", "30 procent".
_COUNT = re.compile(r"(?:\d+(?:[.,:]\d+)*|\b(?:één|" + "|".join(NUMBER_WORDS) + r")\b)\s*((?:[^\W\d_]+[\s-]*){1,2})",
                    re.IGNORECASE)
# What a unit must hold for the form a question asks (`assistant.questions.asked_form`): a sum of money (a price:
# "45 minuten" is no price), a clock time ("9.30", "om 17 uur", "van 9 tot 17 uur"; "24 uur" is a duration).
_MONEY = re.compile(r"€|\b(?:euro|eur|cent|gratis|kosteloos|kostenloos|free\s+of\s+charge)\b|\b(?:geen|zonder)\s+"
                    r"(?:extra\s+|eigen\s+)?kosten\b|\d\s*(?:%|procent\b)", re.IGNORECASE)
_CLOCK = re.compile(r"\b(?:[01]?\d|2[0-3])[.:][0-5]\d\b(?![.,]\d)|\b(?:om|tot|vanaf|van|tussen|na|vóór)\s+(?:[01]?\d|"
                    r"2[0-3])\s*(?:uur\b|u\b|(?:tot|en|-|–)\s*(?:[01]?\d|2[0-3])\s*uur\b)", re.IGNORECASE)
# A name: a capitalised word that does not open a sentence, list item or quote ("Servicecentrum Gemeenten").
_CAPITAL = re.compile(r"(?<![\w.!?:;\-•*\"'‘“(\[])(?<![.!?:;\-•*\"'‘“(\[] )(?<!^ )(?<!^)\b[A-Z][a-zà-ÿ]\w*\b(?:-(\w+))?")
BESIDE = 3  # words between a subject and the name beside it ("de gemeentearchivaris, mevrouw J. de Vries")
_APART = frozenset(["en", "of", "(", ")", ";", "and", "or"])
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,6}\b(?:-(\w+))?")


@dataclass(frozen=True)
class Evidence:
    """A unit of source ``n`` chosen as evidence: its text, its offsets in that source's text, its scores."""

    n: int
    text: str
    start: int
    end: int
    score: float
    coverage: float  # share of the question's words it contains (the "has a source" signal)
    fits: bool = True  # it holds what the question asks for (a number, a date...), or the question asks openly
    names: bool = True  # it names `NAMED` of the question's words (all, if it has fewer): see `answers_question`
    states_amount: bool = True  # it states a number, or the question asks no amount (`asks_amount`)
    supplies: bool = True  # it holds the form the answer must take (a price, a clock time, a name: `_supplies`)


@dataclass(frozen=True)
class _Candidate:
    n: int
    rank: int
    text: str
    start: int
    end: int
    coverage: float
    score: float
    fits: bool
    names: bool
    states_amount: bool
    supplies: bool


def select_evidence(question: str, sources: Sequence[tuple[int, str, str, float | None]], terms: Terms,
                    limit: int = MAX_EVIDENCE, previous: str | None = None
                    ) -> list[Evidence]:
    """The best units of ``sources`` ((n, text, context, cosine), best-ranked first; context is the chunk's title
    and heading, which count as words of each of its units; cosine its similarity to the question, if known)
    for ``question``, best first.

    For a follow-up, ``previous`` is the question it refers to: its words count for a third (the topic), the
    follow-up's own words for the rest (what is asked now), and its kind is the previous one's if it has none.
    """
    asked = terms.bag(without_question_words(question))
    if not asked.words and not asked.numbers:
        return []
    weights = terms.weights(asked.words)
    kind = question_kind(question) or (question_kind(previous) if previous else None)
    asking = question if asks_amount(question) or not previous or question_kind(question) else previous
    amount = asks_amount(asking)
    what = counted(asking)
    counting = terms.bag(what) if what else None
    form = asked_form(asking)
    amount = amount and (form is None or form[0] != "price")  # a price's amount is its money: "gratis" answers it
    own_words = {w.lower() for w in re.findall(r"[^\W_]+", f"{question} {previous or ''}")}
    # A follow-up's subject is the conversation's ("En per jaar?" after two questions on a parking permit): one
    # word of it named is enough.
    named = min(1 if previous else NAMED, len(asked.words))
    topic = terms.bag(without_question_words(previous)) if previous else None
    topic_weights = terms.weights(topic.words) if topic else {}
    candidates: list[_Candidate] = []
    seen: set[str] = set()
    for rank, (n, text, context, similarity) in enumerate(sources):
        prior = RANK_WEIGHT * (1.0 - rank / max(1, len(sources))) + CHUNK_DENSE_WEIGHT * max(0.0, similarity or 0.0)
        before = ""
        for unit in split_units(text):
            key = normalise(unit.text)
            previous_unit, before = before, unit.text
            if key in seen:  # chunks overlap: the same sentence from the next chunk adds nothing
                continue
            seen.add(key)
            own = terms.bag(f"{unit.text}\n{context}")
            # What the unit states: its words, its chunk's title and heading, and for a list item the line that
            # introduces the list. Its coverage of the question is the "has a source" signal.
            stated = terms.bag(f"{unit.text}\n{unit.lead}\n{context}") if unit.lead else own
            coverage = _coverage(terms, asked, stated, weights)
            around, near = stated, coverage
            if previous_unit and not unit.lead:
                # For ranking, a sentence also goes on with the one before it ("De gemeente geeft aan dat ..."
                # after the sentence that names Amsterdam), for half: the one naming the topic stays ahead.
                around = terms.bag(f"{unit.text}\n{previous_unit}\n{context}")
                near = (coverage + _coverage(terms, asked, around, weights)) / 2
            if near <= 0.0:
                continue
            # The unit's own words count most; its context helps a little.
            fit = (_coverage(terms, asked, own, weights) + near) / 2
            if topic is not None:
                fit = (2 * fit + terms.coverage(topic, around, topic_weights)) / 3
            bonus = _bonus(kind, unit.text)
            names = sum(m >= NAMED_MATCH for m in terms.matches(asked, stated)) >= named
            candidates.append(_Candidate(n, rank, unit.text, unit.start, unit.end, coverage,
                                         fit + bonus + prior - _length_penalty(unit.text), not kind or bonus > 0,
                                         names, not amount or _states_amount(terms, unit.text, counting),
                                         _supplies(terms, form, own_words, unit.text)))
    if not candidates:
        return []
    candidates.sort(key=lambda c: (-c.score, c.rank, c.start))
    best = candidates[0].score
    chosen = [c for c in candidates if c.score >= KEEP_SHARE * best][:limit]
    return [Evidence(c.n, c.text, c.start, c.end, round(c.score, 4), c.coverage, c.fits, c.names, c.states_amount,
                     c.supplies) for c in chosen]


def answer_signal(evidence: Sequence[Evidence]) -> float:
    """The third "has a source" signal: how much of the question the best evidence contains, for half when
    it lacks what the question asks for (a sentence on the topic without the amount asked for may not answer
    it; the kind is read from the question's words, so not at all would be too strict: "hoe heet het
    wanneer..." asks no date)."""
    return max((e.coverage * (1.0 if e.fits else UNFIT_SHARE) for e in evidence), default=0.0)


def answers_question(evidence: Sequence[Evidence]) -> bool:
    """Whether the evidence can answer the question at all, whatever the three "has a source" signals say: a
    unit names two of the question's words (all, if it has fewer; one, for a follow-up), and, when the question
    asks an amount ("hoeveel", "hoe hoog"), a unit states a number (of what it counts: `_states_amount`). The
    signals weigh shares of words: a two-word question has half of them in a sentence that names only one ("de
    wethouder van financiën" in a sentence on the college of burgemeester en wethouders), and a chunk with
    every rare word of a question on a commuting allowance by public transport may only say there is none on a
    day worked at home."""
    return any(e.names and e.supplies for e in evidence) and any(e.states_amount for e in evidence)


def _supplies(terms: Terms, form: tuple[str, str | None] | None, asked: set[str], text: str) -> bool:
    """Whether ``text`` holds the form the answer must take (`assistant.questions.asked_form`): a price a sum of
    money, a time of day a clock time, "hoe heet de..." a name the question does not already hold, "wie is de..."
    such a name or a role, "welke N" an N or something named (a name, an acronym, a number)."""
    if form is None:
        return True
    kind, noun = form
    text = plain(text)
    if kind == "price":
        return bool(_MONEY.search(text))
    if kind == "clock":
        return bool(_CLOCK.search(text))
    if kind in ("name", "person"):
        return _named_beside(terms, noun or "", text, asked, kind == "person")
    named = terms.matches(terms.bag(noun or ""), terms.bag(text))
    # A name or acronym the question does not hold, unless it only qualifies a compound's head the question
    # does not name either: a "Lenovo-laptop" names a brand of laptop, a "VPN-verbinding" is a connection.
    instances = [m for pattern in (_CAPITAL, _ACRONYM) for m in pattern.finditer(text)
                 if m.group(0).split("-")[0].lower() not in asked and (m.group(1) is None or m.group(1).lower() in asked)]
    return bool(named and named[0] >= NAMED_MATCH) or bool(instances or numbers(text))


def _named_beside(terms: Terms, subject: str, text: str, asked: set[str], roles: bool) -> bool:
    """Whether ``text`` names ``subject`` ("de gemeentearchivaris") with a name beside it (a role too, when
    ``roles``), within `BESIDE` words and not across "en", "of" or a bracket: "het Servicecentrum Gemeenten"
    after "ondersteuning", not "de Chief Information Security Officer (CISO) en de functionaris"."""
    tokens = list(re.finditer(r"[^\W_]+|[(),;]", text))
    capitals = {m.start() for m in _CAPITAL.finditer(text)}
    wanted = terms.bag(subject)
    for i, token in enumerate(tokens):
        bag = terms.bag(token.group(0))
        if not wanted.words or not bag.words or max(terms.matches(wanted, bag)[0],
                                                    terms.matches(bag, wanted)[0]) < NAMED_MATCH:
            continue  # either may be the other's compound part: "ondersteuning" ~ "ondersteuningsorganisatie"
        for step in (-1, 1):
            for j in range(i + step, i + step * (BESIDE + 1), step):
                if not 0 <= j < len(tokens) or tokens[j].group(0).lower() in _APART:
                    break
                word = tokens[j].group(0)
                if word.lower() in asked:
                    continue
                if tokens[j].start() in capitals or (roles and (WANTS["role"].fullmatch(word) or
                                                                _ACRONYM.fullmatch(word))):
                    return True
    return False


def _states_amount(terms: Terms, text: str, counting: Bag | None) -> bool:
    """Whether ``text`` states a number, and, when the question counts something ("Hoeveel klachten..."), a
    number of that: "binnen 5 werkdagen na ontvangst" does not say how many complaints came in."""
    if not numbers(text):
        return False
    if counting is None or not counting.words:
        return True
    for match in _COUNT.finditer(plain(text).replace("%", " procent")):
        if terms.matches(counting, terms.bag(match.group(1)))[0] >= NAMED_MATCH:
            return True
    return False


def _coverage(terms: Terms, asked: Bag, unit: Bag, weights: dict[str, float]) -> float:
    """The share of the question a unit holds; a number in the question ("artikel 5") counts as a word."""
    coverage = terms.coverage(asked, unit, weights)
    if not asked.numbers:
        return coverage
    numbers = len(asked.numbers & unit.numbers) / len(asked.numbers)
    return (coverage + numbers) / 2 if asked.words else numbers


def _bonus(kind: str | None, text: str) -> float:
    """What a unit gains for holding what the question asks for (a role: a role word or an acronym)."""
    if not kind:
        return 0.0
    if WANTS[kind].search(text) or (kind == "role" and WANTS["acronym"].search(text)):
        return KIND_BONUS[kind]
    return 0.0


def _length_penalty(text: str) -> float:
    """Long units contain many words by chance; a slight penalty keeps the short, precise one first."""
    return 0.05 * max(0.0, math.log2(max(1, len(text)) / 200))
