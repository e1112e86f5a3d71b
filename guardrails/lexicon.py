"""The word and name lists shipped in ``guardrails/data``, loaded once and shared by the detectors.

Where each list comes from, and its licence, is in ``guardrails/data/build_lists.py`` and the README.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from guardrails.detection import words

# Function words of Dutch and English: never part of a name written in lower case.
FUNCTION_WORDS = words("""
de het een en of van voor met in op aan bij uit naar over door tot om te als dan dat die dit deze wat wie
waar hoe wanneer waarom welke is zijn was waren ben bent heb hebt heeft hebben had kan kun kunt kunnen wil
wilt willen moet moeten mag mogen zal zou zullen wordt worden werd ik jij je u uw hij zij ze wij we mij me
hem haar hun ons onze mijn zijn niet geen wel ook nog maar al er hier daar toen nu dus want omdat graag
even alleen ja nee heel erg veel meer bv bijv via per na sinds tegen zonder tussen onder boven binnen
buiten achter naast langs rond hallo hoi beste groet groeten bedankt dank alvast svp aub mvg gr
the a an and or of to in on at by for with from into about as is are was were be been am i you he she we
they it me him her us them my your his our their this that these those what who which when where why how
not no yes do does did have has had will would can could should shall may might must please thanks thank
hi hello dear regards sincerely also just only very
""")
# Words that are plainly no name part: organisations, policy words, months, days, function words.
NOT_NAME = words("""
gemeente gemeenten raad college ministerie minister ministers commissie autoriteit staat state rijk
rijksoverheid overheid provincie waterschap unie europese europees europa nederland nederlandse
nederlands algemene algemeen wet wetboek verordening besluit regeling kader algoritmekader register hof
rechtbank kamer tweede eerste koninkrijk burgemeester wethouder wethouders dienst bureau centrum
instituut universiteit stichting vereniging bank belastingdienst politie toeslagen data ai impact zaken
archief rekenkamer auditdienst algoritme algoritmes privacy public license licence creative commons
model models risk risks survey baseline domein publiek nationaal nationale artificiële intelligentie
informatiebeveiliging maatregel maatregelen vereiste vereisten toelichting risico risico's bronnen bron
voorbeelden voorbeeld hulpmiddelen overzicht uitvoering output input assessment rights human fundamental
protection officer act general regulation european commission union board council court ministry
department office agency authority government city county national international center centre institute
university foundation association company ltd inc bv nv group team project programma platform open
source github google microsoft amazon apple chatgpt openai python januari februari maart april mei juni
juli augustus september oktober november december maandag dinsdag woensdag donderdag vrijdag zaterdag
zondag monday tuesday wednesday thursday friday saturday sunday january february march june july august
october noord zuid oost west voorbeeld bsn iban kvk rijbewijs paspoort digid mijnoverheid vng ict it nl
en the and of for with from to de het een ik wij u je jij hij zij ze we you he she they it this that
these those my our your his her their dit dat deze die er hier daar ook maar als bij of om aan naar uit
over door na tot voor met in op welke wat hoe waar wanneer waarom wie graag kun kunt kan wil wilt stuur
schrijf maak geef zoek please can could would should will write send make give find check tel fax mail
email e-mail telefoon adres postcode straat geboren born street road avenue lane meer zie see note let
op bijlage annex artikel article hoofdstuk chapter paragraaf lid sectie section tabel table figuur
figure versie version status
""")
# Words that open a name: a title or form of address (the name follows, whatever its case).
TITLES = words("""
dhr dhr. mevr mevr. mw mw. mej mej. mr mr. mrs mrs. ms ms. miss dr dr. drs drs. ir ir. ing ing. prof prof.
mevrouw meneer juffrouw sir madam mx lady lord t.n.v. tnv t.a.v. tav
""")
# First names that are also everyday Dutch or English words: names, but only with support.
_EVERYDAY_FIRST = words("""
ben mark bas roos kim lot job jet bo floor fleur amber merel mees cas sem puk lex mare ties kick sten beau
nova lieve jade linde faas mats max will bill may rose grant page hope joy faith june art dean frank guy ray
pat rich sky summer jack jasmijn lelie iris
""")
# Everyday Dutch and English words that are also first names or surnames (beyond the frequency list).
_EVERYDAY = _EVERYDAY_FIRST | words("""
sterk klein groot lang kort wit zwart groen rood bruin de jong
bakker visser smit kok boer mulder schipper koster kramer post koning jager molenaar schilder timmerman
visscher schaap vos bos berg dijk beek veen hoek dam brink kamp horst wal laan hof sluis meer haan haas
wolf valk vogel mol vink kroon stam tol spijker nagel hamer boom steen brouwer dekker bouwman kent
""")


_ROMAN = words("i ii iii iv v vi vii viii ix x xi xii")
RARE_SHARE = 0.005  # percent of the population (census shares are percentages)


def _lines(filename: str) -> list[str]:
    resource = resources.files("guardrails.data").joinpath(filename)
    if filename.endswith(".gz"):
        text = gzip.decompress(resource.read_bytes()).decode("utf-8")
    else:
        text = resource.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _words_of(filename: str) -> frozenset[str]:
    return frozenset(word.lower() for line in _lines(filename) for word in line.split())


def _census(filename: str) -> dict[str, float]:
    return {name: float(share) for name, share in (line.split("\t") for line in _lines(filename))}


@dataclass(frozen=True)
class Lexicon:
    """Dutch words, proper nouns, first names, surnames and towns, all lower case."""

    dutch_words: frozenset[str]
    common_words: frozenset[str]
    proper_nouns: frozenset[str]
    first_names: frozenset[str]
    surnames: frozenset[str]
    places: frozenset[str]
    place_words: frozenset[str]
    dutch_first_names: frozenset[str]
    first_name_share: dict[str, float]
    surname_share: dict[str, float]

    def is_word(self, token: str) -> bool:
        """A Dutch dictionary word, an everyday English word or a function word."""
        return token in self.dutch_words or token in self.common_words or token in FUNCTION_WORDS

    def is_everyday(self, token: str) -> bool:
        """A word frequent enough in ordinary text that, as a name, it needs support from its context."""
        return token in FUNCTION_WORDS or token in self.common_words or token in _EVERYDAY

    def is_first_name(self, token: str) -> bool:
        """In a first-name list (hand-made, the US census, or an OpenTaal name with a genitive)."""
        return token in self.first_names

    def is_common_first_name(self, token: str) -> bool:
        """A first name frequent enough to stand alone: a Dutch listed one, or one of the census names carried by
        at least 1 in 20,000 people (the rare census names, "kent", "art", "vi", also are ordinary words)."""
        return token in self.first_names and (token not in self.first_name_share or token in self.dutch_first_names
                                              or self.first_name_share[token] >= RARE_SHARE)

    def is_surname(self, token: str) -> bool:
        """In a surname list, or (for a double name) each part is."""
        if token in self.surnames:
            return True
        parts = token.split("-")
        return len(parts) > 1 and all(p in self.surnames or p in self.first_names for p in parts if p)

    def is_unknown(self, token: str) -> bool:
        """Neither a word nor a place: in typed text most often a name the lists miss (or a typo)."""
        parts = [p for p in token.replace("'", "-").replace("’", "-").split("-") if p]
        return bool(parts) and all(p.isalpha() and not self.is_word(p) and p not in self.places for p in parts)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shipped lists (loaded on first use, about half a second, then cached)."""
    proper = _lines("proper_nl.txt")
    genitive = {w[1:] for w in proper if w.startswith("+")}
    proper_nouns = frozenset(w.lstrip("+") for w in proper)
    places = frozenset(_lines("places_nl.txt"))
    first_share = _census("census_first.tsv")
    last_share = _census("census_last.tsv")
    hand_first, hand_last = _words_of("first_names.txt"), _words_of("surnames.txt")
    dutch_words = frozenset(_lines("lexicon_nl.txt.gz"))
    # A genitive entry marks a name, unless the word is also an ordinary word ("Mee" and "Mees": "mee").
    first = (hand_first | _EVERYDAY_FIRST | (set(first_share) - places) | (genitive - places - dutch_words)) - _ROMAN
    last = hand_last | set(last_share) | (proper_nouns - genitive - places - dutch_words)
    return Lexicon(
        dutch_words=dutch_words,
        common_words=frozenset(_lines("common_words.txt")) - (hand_first - _EVERYDAY),
        proper_nouns=proper_nouns - places,
        first_names=frozenset(first),
        surnames=frozenset(last),
        places=places,
        dutch_first_names=frozenset(hand_first | _EVERYDAY_FIRST | (genitive - places - dutch_words)),
        place_words=frozenset(w for place in places for w in re.split(r"[ \-]+", place) if len(w) > 2),
        first_name_share=first_share,
        surname_share=last_share,
    )
