"""Person names however they are typed: lower case, capitals, no punctuation.

Capitalisation is not looked at here. A run of words is a name when the lists and the context say so: a title
or form of address ("dhr", "mevr.", "t.n.v.", "de heer"), a phrase that introduces a name ("ik ben", "mijn
naam is", "namens", "met"), initials, a first name from the lists, tussenvoegsels, a surname from the lists,
or words that are in no dictionary. Words that are also everyday words (bakker, visser, de jong, van dijk) are
a name only with such support.

Two settings. ``typed`` (what a person typed: the question, the history) resolves doubt toward privacy: a
known first name alone, or two unknown words after "aan"/"van"/"met", is enough. ``document`` (retrieved
policy text) resolves it toward precision: only a title with a name, or a first name with a listed surname.
Every step looks at most a few tokens ahead, so the time is linear in the length of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guardrails.detection import Detection, words
from guardrails.lexicon import FUNCTION_WORDS, NOT_NAME, TITLES, Lexicon, lexicon

_TOKEN = re.compile(
    r"(?P<abbr>(?<![\w.])(?i:t\.n\.v\.?|t\.a\.v\.?|tnv|tav)(?!\w))"
    r"|(?P<init>(?<![\w.])[^\W\d_]\.(?:[ ]?[^\W\d_]\.){0,3})"
    r"|(?P<word>['’]t(?!\w)|[^\W\d_](?:[\w'’]|-(?=[^\W\d_]))*)"
    r"|(?P<other>\S)"
)
_TUSSEN = words("van von de der den het ter ten te in op 't ’t la le du da di del dos el al bin ibn vd v.d.")
# Abbreviations that look like initials.
_ABBREVIATIONS = words("""
o.a. d.w.z. i.v.m. m.b.t. t.a.v. t.n.v. z.s.m. b.v. n.v. e.d. m.n. i.p.v. t.o.v. o.b.v. a.d.h.v. i.o.v.
v.d. e.g. i.e. a.m. p.m. n.b. p.s. c.q. m.u.v. v.o.f. c.v. u.a. e.v. b.a. s.v.p. a.u.b. m.v.g. o.v.v. i.s.m.
""")
# Phrases after which a name follows ("ik ben jan", "namens piet de boer"); the phrase is not part of it.
_STRONG_CUES = (("ik", "ben"), ("ik", "heet"), ("mijn", "naam", "is"), ("naam", "is"), ("naam", ":"),
                ("namens",), ("genaamd",), ("beste",), ("geachte",), ("my", "name", "is"), ("dear",),
                ("on", "behalf", "of"), ("called",), ("named",), ("hallo",), ("hoi",), ("hi",), ("hello",))
# Words after which a name often follows; they only support a name the lists or the dictionary point to.
_WEAK_CUES = words("""
aan van voor met bij door namens is heet en of zoals ook cliënt client aanvrager bewoner inwoner burger
klant patient patiënt collega wethouder buurman buurvrouw zoon dochter moeder vader man vrouw partner
to from with for by and about of meet met spoke called client applicant resident neighbour als if
""")
# Verbs that follow a person at the start of a sentence ("wout bellemans woont op ...").
_PERSON_VERBS = words("""
woont woonde belde belt heeft had is was wil wilde vraagt vroeg komt kwam zegt zei meldt meldde krijgt kreeg
ontvangt stuurde schreef lives lived called calls has had is was wants asked says said
""")
# Endings of Dutch adjectives and nouns, never of a first name.
_POLICY_HEADS = ("beleid", "beleidsplan", "regeling", "verordening", "besluit", "programma", "register", "kader",
                 "strategie", "protocol", "reglement", "wet")  # the heads of policy compounds
_WORD_ENDINGS = ("volle", "loze", "achtige", "ische", "lijke", "lijk", "baar", "bare", "ieve", "tie", "ing", "ingen",
                 "heid", "teit", "isme", "ment", "ende", "erde", "igde", "aire", "ele", "ale", "ieke", "tische")


@dataclass
class _Token:
    kind: str
    start: int
    end: int
    low: str


@dataclass
class TypedNameDetector:
    """Finds person names whatever their case, from lists, titles, initials and context words."""

    mode: str = "typed"
    name: str = "TypedNameRecognizer"
    types: tuple[str, ...] = ("PERSOON",)
    lexicon: Lexicon = field(default_factory=lexicon)

    def detect(self, text: str) -> list[Detection]:
        """Every run of tokens that scores as a person name in this detector's setting."""
        tokens = [_Token(m.lastgroup or "other", m.start(), m.end(), m.group().lower()) for m in
                  _TOKEN.finditer(text)]
        found: list[Detection] = []
        i = 0
        while i < len(tokens):
            hit = self._at(text, tokens, i)
            if hit is None:
                i += 1
                continue
            detection, i = hit
            found.append(detection)
        return found

    # -- what a token is -------------------------------------------------------------------------------
    def _listed(self, low: str) -> bool:
        return self.lexicon.is_first_name(low) or self.lexicon.is_surname(low)

    def _policy(self, low: str) -> bool:
        """A policy or organisation word, a hyphenated word with one ("ai-verordening"), or a long compound
        that ends in a policy word ("informatiebeveiligingsbeleid", "archiefwet"): no name ends so."""
        return low in NOT_NAME or "-" in low and any(part in NOT_NAME for part in low.split("-")) or (
            len(low) >= 10 and low.endswith(_POLICY_HEADS) and not self.lexicon.is_first_name(low))  # "abdelkader"

    def _plain(self, low: str) -> bool:
        """Never part of a name: function words, policy words, towns."""
        return low in FUNCTION_WORDS or self._policy(low) or low in self.lexicon.places

    def _nameish(self, low: str) -> bool:
        """A listed name or a word no dictionary knows, and not an everyday word."""
        if self._plain(low) or self.lexicon.is_everyday(low):
            return False
        return self._listed(low) or low in self.lexicon.proper_nouns or (
            len(low) > 3 and self.lexicon.is_unknown(low))  # "txt", "uri", "mtr": file names and codes

    def _dictionary(self, low: str) -> bool:
        """A Dutch or English word (or a hyphenated word with one: "ai-verordening") that is no listed name."""
        if self._listed(low):
            return False
        return self.lexicon.is_word(low) or any(self.lexicon.is_word(p) for p in low.split("-") if len(p) > 2)

    def _surname_after_first(self, low: str) -> bool:
        """A surname right after a first name: listed (even if everyday: "jan bakker"; or a town: "anna hall"),
        or any word that is not an everyday one ("twan riem")."""
        if low in FUNCTION_WORDS or self._policy(low):
            return False
        return self.lexicon.is_surname(low) or not self.lexicon.is_everyday(low)

    # -- the scan --------------------------------------------------------------------------------------
    def _tussen_at(self, tokens: list[_Token], n: int) -> bool:
        """A tussenvoegsel at ``n``; "in" and "op" only before another ("in 't veld", "op de beek")."""
        low = tokens[n].low
        if tokens[n].kind != "word" or low not in _TUSSEN:
            return False
        if low in ("in", "op", "te"):
            return n + 1 < len(tokens) and tokens[n + 1].low in _TUSSEN
        return True

    def _glued(self, text: str, tokens: list[_Token], k: int) -> bool:
        """Token ``k`` is part of an address, a URL or a word: glued to "@", ".", "/", "(" or a letter."""
        token = tokens[k]
        before = text[token.start - 1] if token.start else " "
        after = text[token.end] if token.end < len(text) else " "
        return before in "./@(\\_:#[" or before.isalnum() or after in "@/(_" or (
            after == "." and token.end + 1 < len(text) and text[token.end + 1].isalnum())

    def _is_word(self, tokens: list[_Token], k: int) -> bool:
        return k < len(tokens) and tokens[k].kind == "word"

    def _break(self, text: str, tokens: list[_Token], k: int) -> bool:
        """A line break before token ``k``: a name never runs across it."""
        return k > 0 and "\n" in text[tokens[k - 1].end:tokens[k].start]

    def _title(self, tokens: list[_Token], i: int) -> int:
        """How many tokens a title at ``i`` takes ("dhr", "mw.", "t.n.v.", "de heer"), or 0."""
        token = tokens[i]
        if token.kind == "abbr":
            return 1
        if token.kind != "word":
            return 0
        if token.low == "de" and i + 1 < len(tokens) and tokens[i + 1].low == "heer":
            return 2
        if token.low in TITLES or token.low + "." in TITLES:
            dotted = i + 1 < len(tokens) and tokens[i + 1].low == "." and tokens[i + 1].start == token.end
            return 2 if dotted else 1
        return 0

    def _cue(self, tokens: list[_Token], i: int) -> int:
        """How many tokens a phrase that introduces a name takes at ``i``, or 0."""
        for cue in _STRONG_CUES:
            if tuple(t.low for t in tokens[i:i + len(cue)]) == cue:
                return len(cue)
        return 0

    def _at(self, text: str, tokens: list[_Token], i: int) -> tuple[Detection, int] | None:
        """A name starting at token ``i`` (after a title or cue), and the index to go on from."""
        if i > 0 and tokens[i - 1].low.isdigit() and tokens[i - 1].end + 1 >= tokens[i].start:
            return None  # "12 jansen", "221 baker street": after a number it is a street, not a person
        if tokens[i].kind == "word" and self._glued(text, tokens, i):
            return None
        title = self._title(tokens, i)
        cue = 0 if title else self._cue(tokens, i)
        j = i + title + cue
        if j >= len(tokens) or j == i and tokens[i].kind == "word" and tokens[i].low in _TUSSEN and not (
                i + 1 < len(tokens) and self._is_word(tokens, i + 1)):
            return None
        weak = i > 0 and tokens[i - 1].low in _WEAK_CUES or (i > 1 and tokens[i - 1].low in ",:" and
                                                             tokens[i - 2].low in _WEAK_CUES)
        opening = i == 0 or tokens[i - 1].kind == "other" and tokens[i - 1].low in ".!?:;" or self._break(
            text, tokens, i)
        parsed = self._parse(text, tokens, j, title=bool(title), cue=bool(cue), weak=weak and not (title or cue),
                             opening=opening and not (title or cue))
        if parsed is None:
            return None
        end, score, why = parsed
        if (title or cue) and self._break(text, tokens, j):
            return None
        start = tokens[i].start if title else tokens[j].start
        if text[start:tokens[end - 1].end].lower() in self.lexicon.places:
            return None
        return Detection("PERSOON", start, tokens[end - 1].end, score, self.name, why), end

    def _parse(self, text: str, tokens: list[_Token], j: int, title: bool, cue: bool, weak: bool,
               opening: bool = False) -> tuple[int, float, str] | None:
        """The end (exclusive token index), score and explanation of a name starting at ``j``, or None."""
        typed = self.mode == "typed"
        k = j
        initials = False
        if tokens[k].kind == "init" and tokens[k].low.replace(" ", "") not in _ABBREVIATIONS:
            initials = True
            k += 1
        if not self._is_word(tokens, k) or (k > j and self._break(text, tokens, k)):
            return None
        first = tokens[k].low
        # The first word of the name: after a title anything but a function word; else lists and dictionary.
        lead_tussen = first in _TUSSEN and self._is_word(tokens, k + 1)
        if title or initials:
            ok = not self._plain(first) or lead_tussen
        elif cue:
            ok = lead_tussen or self._nameish(first) or self._listed(first) and not self._plain(first)
        else:
            ok = self.lexicon.is_first_name(first) and not self._plain(first) or (
                typed and (self._nameish(first) or (weak or opening) and self._name_shaped(first)))
        if not ok:
            return None
        known_first = self.lexicon.is_first_name(first) and not self._plain(first)
        everyday = self.lexicon.is_everyday(first)
        # How much a word after a tussenvoegsel must prove: after a title, a cue, initials or a plain first
        # name, anything that is no policy word ("van der plas", "jenna de gratie"); after an everyday or
        # unknown first word, a listed surname or no dictionary word ("mark de tekst" is no name).
        support = 2 if title or cue or initials or known_first and not everyday else 1 if known_first else 0
        k_first = k
        # The rest: tussenvoegsels and surnames, at most three words.
        surnames = 0
        m = k + 1 if not lead_tussen else k
        while m < len(tokens) and surnames < 2 and not self._break(text, tokens, m):
            n = m
            while n < len(tokens) and n - m < 3 and self._tussen_at(tokens, n):
                n += 1
            if not self._is_word(tokens, n) or self._break(text, tokens, n):
                break
            low = tokens[n].low
            if n > m:  # after a tussenvoegsel ("de jong", "van dijk", "van metz")
                if low in FUNCTION_WORDS or self._policy(low) or low in _TUSSEN or (
                        support < 2 and self._dictionary(low) and not self.lexicon.is_surname(low)):
                    break
            elif n + 1 < len(tokens) and tokens[n + 1].low[:1].isdigit() or self._glued(text, tokens, n):
                break  # "yasmin van baalen lisaweg 18": the street is not part of the name
            elif not self._surname_after_first(low):
                break
            surnames += 1
            m = n + 1
        end = m if surnames else k + 1
        if lead_tussen and not surnames:
            return None
        if title:
            return end, 0.9, "title before a name"
        if cue:
            if everyday and not surnames:
                return None
            return end, 0.85, "name after a phrase that introduces one"
        if initials:
            if not surnames and not (self._surname_after_first(first) and not everyday):
                return None
            return end, 0.85, "initials before a surname"
        last = tokens[end - 1].low
        if known_first and surnames:
            joined = end - k_first > 2
            if everyday and not (self._nameish(last) or self.lexicon.is_surname(last) or joined) and not weak:
                return None  # "mark de tekst", "roos van de tuin"
            if not typed and not any(self.lexicon.is_surname(t.low) or t.low in _TUSSEN
                                     for t in tokens[k_first + 1:end]):
                return None
            return end, 0.85, "first name with a surname"
        if not typed:
            return None
        if known_first and not everyday and (weak or self.lexicon.is_common_first_name(first)):
            return end, (0.7 if weak else 0.6), "known first name"
        if surnames and self._nameish(first) and (weak or self._listed(first) or self._listed(last)
                                                  or last in self.lexicon.proper_nouns):
            # "aan xandro pietersen", "rayan texier", "lenn van metz": words no dictionary knows, joined
            return end, 0.7 if weak else 0.6, "unlisted words that read as a name"
        if surnames and self._name_shaped(first) and self._unknown_surname(last) and (
                weak or opening and end < len(tokens) and tokens[end].low in _PERSON_VERBS):
            # "als mart haselaar het ...", "wout bellemans woont op ...": a rare word and a surname-like one
            return end, 0.6, "a word and a surname-like word where a person is expected"
        return None

    def _name_shaped(self, low: str) -> bool:
        """Could be an unlisted first name: three letters or more, no function, policy, everyday or town word, no
        dictionary word unless also a proper noun ("wout"), no adjective or noun ending ("impactvolle")."""
        return len(low) > 2 and low.isalpha() and not self._plain(low) and not self.lexicon.is_everyday(low) and (
            low not in self.lexicon.dutch_words or low in self.lexicon.proper_nouns) and not low.endswith(
            _WORD_ENDINGS)

    def _unknown_surname(self, low: str) -> bool:
        """A surname no list holds: no dictionary word (or a proper noun that is no town)."""
        return self.lexicon.is_surname(low) or len(low) > 3 and not self._dictionary(low) and not self._plain(low)
