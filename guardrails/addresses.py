"""Street addresses: a Dutch street name (by its suffix) with a house number, or an English number + street."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guardrails.detection import Detection, words
from guardrails.lexicon import FUNCTION_WORDS, Lexicon, lexicon

_DUTCH_SUFFIXES = (
    "straat", "laan", "weg", "plein", "gracht", "kade", "singel", "dijk", "pad", "steeg", "hof", "park", "dreef",
    "plantsoen", "markt", "baan", "boulevard", "ring", "allee", "wal", "haven", "veld", "erf", "burg", "zijde",
    "kanaal", "oord", "hoek", "kamp", "pier", "brink", "dam", "kwartier", "polder", "akker", "wetering", "vaart",
    "straatje", "laantje", "hofje", "gang", "poort", "tuin", "weide", "berg", "heuvel", "dal", "bos", "lei",
)
_CAP = r"[A-ZÀ-Ý][a-zà-ÿ'’]+(?:-[A-Za-zà-ÿ'’]+)*"
_TUSSEN = r"(?i:van|de|der|den|het|ter|ten|te|op|in|'t|aan|la|le)"
# House number and addition: "12", "12a", "12-A", "12 a", "10-2", "3 hs"; never a postcode's letters.
_NUMBER = r"\d{1,5}(?:(?:-?[A-Za-z]{1,2}| [A-Za-z]|-\d{1,4}| ?(?:bis|hs|huis|bg|boven|I{1,3}))(?![\w]))?"
# "Jansenstraat 12", "Van der Hoopstraat 3a", "Burgemeester de Withlaan 10-2", "Oude Gracht 7"
_DUTCH = re.compile(
    r"(?<![\w\-])((?:(?:" + _CAP + r"|" + _TUSSEN + r") ){0,3}(?:[A-ZÀ-Ý][a-zà-ÿ'’\-]*(?:"
    + "|".join(_DUTCH_SUFFIXES) + r")|(?:" + "|".join(s.capitalize() for s in _DUTCH_SUFFIXES)
    + r"))) (?!\d{4} ?[A-Z]{2}(?![\w]))(" + _NUMBER + r")(?![\w\-,.]\d)"
)
_USPS = (
    "Alley|Annex|Arcade|Avenue|Ave|Bayou|Beach|Bend|Bluffs?|Bottom|Boulevard|Blvd|Branch|Bridge|Brooks?|Burgs?|"
    "Bypass|Camp|Canyon|Cape|Causeway|Centers?|Circles?|Cliffs?|Club|Commons?|Corners?|Course|Courts?|Ct|Coves?|"
    "Creek|Crescent|Crest|Crossing|Crossroad|Curve|Dale|Dam|Divide|Drives?|Dr|Estates?|Expressway|Extensions?|"
    "Falls?|Ferry|Fields?|Flats?|Fords?|Forest|Forges?|Forks?|Fort|Freeway|Gardens?|Gateway|Glens?|Greens?|"
    "Groves?|Harbors?|Haven|Heights|Highway|Hills?|Hollow|Inlet|Islands?|Isle|Junctions?|Keys?|Knolls?|Lakes?|"
    "Land|Landing|Lane|Ln|Lights?|Loaf|Locks?|Lodge|Loop|Mall|Manors?|Meadows?|Mews|Mills?|Mission|Motorway|"
    "Mount|Mountains?|Neck|Orchard|Oval|Overpass|Parks?|Parkways?|Pass|Passage|Path|Pike|Pines?|Place|Pl|Plains?|"
    "Plaza|Points?|Ports?|Prairie|Radial|Ramp|Ranch|Rapids?|Rest|Ridges?|River|Roads?|Rd|Route|Row|Rue|Run|"
    "Shoals?|Shores?|Skyway|Springs?|Spurs?|Squares?|Sq|Station|Stravenue|Stream|Streets?|St|Summit|Terrace|"
    "Throughway|Trace|Track|Trafficway|Trail|Trailer|Tunnel|Turnpike|Underpass|Unions?|Valleys?|Via|Viaduct|"
    "Views?|Villages?|Ville|Vista|Walks?|Wall|Ways?|Wells?"
)
_ENGLISH = re.compile(
    r"(?<![\w\-.,])(\d{1,6}[A-Za-z]? (?:" + _CAP + r" ){1,3}(?:" + _USPS + r")"
    r"(?:(?<=St|Rd|Dr|Ln|Ct|Pl|Sq)\.|(?<=Ave)\.|(?<=Blvd)\.)?"  # the dot of an abbreviation, not a full stop
    r"(?: (?:Apt\.|Suite|Unit|Flat) \d{1,5})?)(?![\w])"
)


# Whatever the case: a word ending in a street suffix, then a house number ("kerkstraat 12", "JEROENSTRAAT 3A").
# (The suffix is checked in Python: a regex alternation of 50 suffixes at every letter would cost 3,000 steps
# a word.)
_FOLDED_STREET = re.compile(r"(?<![\w\-])([^\W\d_][\w'’\-]{0,60}) (" + _NUMBER + r")(?![\w\-,.]\d)(?!\w)")
_FOLDED_ENGLISH = re.compile(
    r"(?<![\w\-.,])(\d{1,6}[A-Za-z]? ((?:[^\W\d_][\w'’\-]{0,40} ){1,3}?)(?:" + _USPS + r")"
    r"(?:(?<=St|Rd|Dr|Ln|Ct|Pl|Sq)\.|(?<=Ave)\.|(?<=Blvd)\.)?"
    r"(?: (?:Apt\.?|Suite|Unit|Flat) \d{1,5})?)(?![\w])", re.IGNORECASE)
# Words that may stand before a street name: tussenvoegsels and titles ("burgemeester de withlaan").
_STREET_PREFIX = words("""
van de der den het 't ter ten burgemeester prins prinses koning koningin graaf gravin hertog oude nieuwe
korte lange hoge lage grote kleine noord zuid oost west sint st dokter dr professor prof generaal admiraal
president pastoor pater meester mr jonkheer
""")
# Street suffixes that, as a whole word, need a word before them ("oude gracht 7"); and those too common
# as the end of an ordinary word to stand alone in lower case.
_PLAIN_SUFFIXES = ("ring", "gang", "oord", "veld", "park", "bos", "dal", "berg", "erf", "lei", "hoek", "kamp", "tuin",
                   "zijde", "haven", "markt", "baan", "poort", "weide", "akker")


@dataclass
class AddressDetector:
    """Finds street + house number; the postcode and town are left to their own detectors.

    ``mode`` "typed" also finds streets written in any case; "document" only lower-case streets whose name
    is no dictionary word (a policy text's "vergadering 12" is not an address)."""

    name: str = "AddressRecognizer"
    types: tuple[str, ...] = ("ADRES",)
    mode: str = "typed"
    lexicon: Lexicon = field(default_factory=lexicon)

    def detect(self, text: str) -> list[Detection]:
        """Dutch and English street addresses with a house number."""
        found = self._folded(text)
        for match in _DUTCH.finditer(text):
            start = match.start(1)
            # Leading words that are plainly not part of a street name ("Woont Kerkstraat 1" at a sentence start).
            words = match.group(1).split(" ")
            while len(words) > 1 and words[0].lower() in _NOT_STREET_WORDS and (
                    words[0].islower() or words[0].lower() not in _TUSSEN_WORDS):
                start += len(words[0]) + 1
                words = words[1:]
            if words[-1].lower() not in _DUTCH_SUFFIXES:
                # Before a one-word street ("Lisaweg") only tussenvoegsels and titles belong to it: "hoort bij
                # Yasmin van Baalen Lisaweg 18" (typed without a comma) holds a name and a street.
                keep = len(words) - 1
                while keep > 0 and words[keep - 1].lower() in _STREET_PREFIX:
                    keep -= 1
                start += sum(len(w) + 1 for w in words[:keep])
            found.append(Detection("ADRES", start, match.end(2), 0.9, self.name, "street name with house number"))
        for match in _ENGLISH.finditer(text):
            found.append(Detection("ADRES", match.start(1), match.end(1), 0.9, self.name,
                                   "house number with street name"))
        return found

    def _folded(self, text: str) -> list[Detection]:
        """Streets whatever their case, judged by their words rather than their capitals."""
        found = []
        for match in _FOLDED_STREET.finditer(text):
            street = match.group(1).lower()
            if not street.endswith(_DUTCH_SUFFIXES) or not self._street_word(street):
                continue
            start = match.start(1)
            # Tussenvoegsels and titles before it belong to the street ("van der hoopstraat").
            before = text[max(0, start - 60):start].split(" ")[:-1]
            while before and before[-1].lower() in _STREET_PREFIX:
                start -= len(before[-1]) + 1
                before = before[:-1]
            found.append(Detection("ADRES", start, match.end(2), 0.9, self.name, "street name with house number"))
        for match in _FOLDED_ENGLISH.finditer(text):
            middle = match.group(2).lower().split()
            if any(word in FUNCTION_WORDS for word in middle) or all(
                    word in self.lexicon.dutch_words and word not in self.lexicon.common_words
                    and word not in self.lexicon.proper_nouns and not self.lexicon.is_first_name(word)
                    for word in middle):
                continue  # "5 van de union", "3 nieuwe regels": not an English street
            found.append(Detection("ADRES", match.start(1), match.end(1), 0.9, self.name,
                                   "house number with street name"))
        return found

    def _street_word(self, street: str) -> bool:
        """A word that names a street: a known street or no dictionary word, ending in a street suffix."""
        if street in self.lexicon.places or street in _DUTCH_SUFFIXES:
            return False
        if street in self.lexicon.dutch_words and street not in self.lexicon.proper_nouns:
            return False  # "vergadering", "antwoord", "toegang", "snelweg"
        # In documents a lower-case "...ring 3" or "...veld 2" is too often an ordinary word with a number.
        return self.mode == "typed" or not street.endswith(_PLAIN_SUFFIXES) or street in self.lexicon.proper_nouns


_TUSSEN_WORDS = words("""
van de der den het ter ten te op in 't aan la le
""")
_NOT_STREET_WORDS = words("""
de het een in op aan van te naar bij via adres woont woon wonen wonend verhuisd verhuist gevestigd staat
ligt mijn zijn haar ons onze uw hun the at on in to from of lives live moved address
""")
