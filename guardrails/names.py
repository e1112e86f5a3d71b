"""Person names without a Dutch NER model: name lists, titles, initials, tussenvoegsels and capitalisation.

The idea follows deduce (lookup lists plus context), with small curated lists in ``guardrails/data``. A
capitalised word is a name part when it is in a list, follows a title or initials, or stands next to other
capitalised words in the middle of a sentence (Dutch capitalises little else); words that are plainly not
names (organisations, months, common-noun endings) break a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources

from guardrails.detection import Detection, words
from guardrails.lexicon import NOT_NAME as _NOT_NAME
from guardrails.lexicon import Lexicon

_TOKEN = re.compile(
    r"(?P<init>(?<![\w.])[A-Z]\.(?:[ ]?[A-Z]\.){0,3})"
    r"|(?P<word>['’]t(?!\w)|[^\W\d_](?:[\w'’]|-(?=[^\W\d_]))*)"
    r"|(?P<other>\S)"
)
_TUSSEN = words("""
van von de der den het ter ten te in op 't ’t la le du da di del dos el al bin ibn vd v.d.
""")
_TITLES = words("""
dhr mevr mw mej mevrouw meneer heer mr mrs ms miss dr drs ir ing prof sir madam mx lady lord juffrouw
""")
_CONTEXT = words("""
beste geachte dear hi hallo hello naam genaamd heet heten called named cliënt client aanvrager bewoner
burger inwoner patient patiënt mevrouw meneer collega colleague wethouder burgemeester raadslid
directeur medewerker
""")
# Place names that look like a tussenvoegsel and a surname.
_PLACES = frozenset({"den haag", "den bosch", "den helder", "den ham", "den burg", "de bilt", "de lier", "de meern",
                     "de koog", "de wolden", "ter apel", "ten boer", "ter aar", "de rijp", "den dungen"})
_COMPANY_FORMS = frozenset({"B.V.", "N.V.", "V.O.F.", "C.V.", "U.A.", "E.V.", "B.A."})
_PREPOSITIONS = frozenset({"in", "op"})  # tussenvoegsels only in "in 't Veld", "op de Beek"
_SENTENCE_END = frozenset(".!?:;\"“”‘’'()[]#*-•>|/=")
_COMMON_ENDINGS = ("tie", "ties", "gie", "ief", "ële", "ische", "lse", "nse", "dse", "aal", "ale", "ige", "heid",
                   "schap", "atie", "itie", "teit", "isme", "isch", "ieve", "ment", "ingen", "heden",
                   "lijk", "lijke", "baar", "bare", "gegevens", "beleid", "systeem", "systemen", "tion",
                   "ness", "ity", "ology", "ence", "ance")


def _load(filename: str) -> frozenset[str]:
    text = resources.files("guardrails.data").joinpath(filename).read_text(encoding="utf-8")
    return frozenset(
        word.lower() for line in text.splitlines() if not line.startswith("#") for word in line.split()
    )


@dataclass
class _Token:
    kind: str
    start: int
    end: int
    text: str


@dataclass
class NameDetector:
    """Finds person names (Dutch and English) with name lists, titles, initials and capitalisation."""

    name: str = "DutchNameRecognizer"
    types: tuple[str, ...] = ("PERSOON",)
    first_names: frozenset[str] = field(default_factory=lambda: _load("first_names.txt"))
    surnames: frozenset[str] = field(default_factory=lambda: _load("surnames.txt"))
    # With a lexicon, a run of capitalised words that are all dictionary words and no listed name is a title
    # or a heading ("Service Level Agreement", "Groep Gegevensbescherming"), not a person.
    lexicon: Lexicon | None = None

    def detect(self, text: str) -> list[Detection]:
        """Every name-like run of tokens that scores as a person name."""
        tokens = [_Token(m.lastgroup or "other", m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
        found: list[Detection] = []
        i = 0
        while i < len(tokens):
            detection, i = self._candidate(text, tokens, i)
            if detection is not None:
                found.append(detection)
        return found

    def _is_cap(self, token: _Token, lenient: bool = False) -> bool:
        word = token.text
        if token.kind != "word" or len(word) < 2 or not word[0].isupper() or not word[1].islower():
            return False
        lower = word.lower()
        if lower in _NOT_NAME:
            return False
        # "Riet-Bloemendaal", "Schuylenborch-van": parts after a hyphen are names or tussenvoegsels;
        # "Wmo-aanvraag", "KvK-uittreksel" are words.
        if any(not (part[:1].isupper() or part in _TUSSEN) for part in word.split("-")[1:]):
            return False
        if lower in self.first_names or lower in self.surnames:
            return True
        # Common-noun endings only tell on long words ("Intelligentie"); short names end so too ("Lieve").
        return lenient or len(lower) < 9 or not lower.endswith(_COMMON_ENDINGS)

    def _sentence_start(self, text: str, tokens: list[_Token], index: int) -> bool:
        if index == 0:
            return True
        previous = tokens[index - 1]
        if "\n" in text[previous.end:tokens[index].start]:
            return True
        return previous.kind == "other" and previous.text in _SENTENCE_END

    def _is_tussen(self, tokens: list[_Token], index: int) -> bool:
        token = tokens[index]
        lower = token.text.lower()
        if token.kind != "word" or lower not in _TUSSEN:
            return False
        if lower in _PREPOSITIONS:
            return index + 1 < len(tokens) and tokens[index + 1].text.lower() in _TUSSEN
        return True

    def _title_at(self, tokens: list[_Token], index: int) -> int:
        """How many tokens a title at ``index`` takes ("dhr.", "de heer", "Mrs"), or 0."""
        token = tokens[index]
        if token.kind != "word":
            return 0
        lower = token.text.lower()
        if lower == "de" and index + 1 < len(tokens) and tokens[index + 1].text.lower() == "heer":
            return 2
        if lower in _TITLES and lower != "heer":
            dotted = index + 1 < len(tokens) and tokens[index + 1].text == "."
            return 2 if dotted else 1
        return 0

    def _candidate(self, text: str, tokens: list[_Token], i: int) -> tuple[Detection | None, int]:
        """A name starting at token ``i`` (after an optional title), and the index to go on from."""
        title = self._title_at(tokens, i)
        context = tokens[i].text.lower() in _CONTEXT or title > 0
        j = i + title
        if context and not title:  # "Beste Amélie", "Dear John": the context word is not part of the name
            j = i + 1
        parts: list[_Token] = []
        initials = False
        tussen = False
        k = j
        start_index = j
        if k < len(tokens) and tokens[k].kind == "init" and tokens[k].text.replace(" ", "") not in _COMPANY_FORMS:
            parts.append(tokens[k])
            initials = True
            k += 1
        while k < len(tokens):
            m = k
            while m < len(tokens) and self._is_tussen(tokens, m) and (
                    tokens[m].text.islower() or not parts or m == j):
                m += 1
            if m < len(tokens) and k > j and "\n" in text[tokens[k - 1].end:tokens[m].start]:
                break  # a name never runs across a line break
            if m < len(tokens) and self._is_cap(tokens[m], lenient=bool(parts) and (
                    m > k or parts[-1].text.lower() in self.first_names)) and (
                    m == k or parts or m > j):
                tussen = tussen or m > k
                if not parts:
                    start_index = m
                parts.append(tokens[m])
                k = m + 1
            else:
                break
        caps = [p for p in parts if p.kind == "word"]
        if not caps:
            return None, max(i + 1, j if title else i + 1)

        lowers = [p.text.lower() for p in caps]
        known_first = lowers[0] in self.first_names
        known_surname = any(w.split("-")[0] in self.surnames for w in lowers[1:] or lowers) and (
            len(caps) > 1 or initials or title > 0)
        # A capitalised tussenvoegsel opening the name belongs to it ("Van Dam"); a lowercase one may be a word.
        lead = j if j < start_index and tokens[j].text[:1].isupper() and not initials else start_index
        after_capital = lead > 0 and tokens[lead - 1].kind == "word" and tokens[lead - 1].text[:1].isupper() \
            and tokens[lead - 1].end + 1 >= tokens[lead].start and not context
        sentence_start = self._sentence_start(text, tokens, lead) and not title
        if title:
            score, why = 0.9, "title before a capitalised name"
        elif initials:
            score, why = 0.85, "initials before a capitalised name"
        elif len(caps) >= 2 and (known_first or known_surname):
            score, why = 0.85, "known first name or surname in a capitalised run"
        elif lead < start_index and lowers[-1].split("-")[0] in self.surnames:
            score, why = 0.8, "capitalised tussenvoegsel before a known surname"
        elif lead < start_index and not after_capital and not sentence_start:
            score, why = 0.7, "capitalised tussenvoegsel before a capitalised name"
        elif after_capital:  # "Verordening Artificiële Intelligentie": part of a capitalised title
            return None, k
        elif len(caps) >= 2 and tussen:
            score, why = 0.75, "capitalised words joined by a tussenvoegsel"
        elif len(caps) >= 2:
            if self.lexicon is not None and all(self.lexicon.is_word(w) and not self.lexicon.is_first_name(w)
                                                and not self.lexicon.is_surname(w) for w in lowers):
                return None, k
            score, why = (0.55 if sentence_start else 0.65), "run of capitalised words"
        elif known_first and (context or not sentence_start):
            score, why = (0.8 if context else 0.6), "known first name"
        elif context and not sentence_start:
            score, why = 0.6, "capitalised word after a name context word"
        else:
            return None, k
        first = tokens[i] if title else tokens[lead]
        if not title and text[first.start:parts[-1].end].lower() in _PLACES:
            return None, k
        return Detection("PERSOON", first.start, parts[-1].end, score, self.name, why), k
