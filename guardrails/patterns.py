"""Detectors of structured identifiers: regular expressions, checksums (elfproef, mod 97, Luhn) and context."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from guardrails.detection import Detection, has_context


def elfproef(digits: str) -> bool:
    """The BSN eleven test: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is a multiple of 11 (and not zero)."""
    if len(digits) == 8:
        digits = "0" + digits
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1))) - int(digits[8])
    return total % 11 == 0


def iban_valid(value: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    compact = value.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def luhn(digits: str) -> bool:
    """The Luhn checksum of card numbers."""
    total = 0
    for index, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


@dataclass(frozen=True)
class PatternRule:
    """A regex for one type, an optional validator, a base score and context words that raise it."""

    type: str
    name: str
    regex: re.Pattern[str]
    score: float
    validate: Callable[[str], bool] | None = None
    context: tuple[str, ...] = ()
    context_score: float = 0.95
    needs_context: bool = False
    explanation: str = ""


@dataclass
class PatternDetector:
    """Runs a list of PatternRules over a text."""

    rules: list[PatternRule]
    name: str = "BakenPatterns"
    types: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.types = tuple(dict.fromkeys(rule.type for rule in self.rules))

    def detect(self, text: str) -> list[Detection]:
        """Every match of every rule that validates (and has context when the rule needs it)."""
        found: list[Detection] = []
        for rule in self.rules:
            for match in rule.regex.finditer(text):
                start, end = match.span(1) if rule.regex.groups else match.span()
                value = text[start:end]
                if rule.validate is not None and not rule.validate(value):
                    continue
                score, why = rule.score, rule.explanation
                if rule.context and has_context(text, start, end, rule.context):
                    score, why = max(score, rule.context_score), why + "; context word nearby"
                elif rule.needs_context:
                    continue
                found.append(Detection(rule.type, start, end, score, rule.name, why))
        return found


_SEP = r"[ .\-]?"
BSN = PatternRule(
    "BSN", "BsnRecognizer",
    re.compile(r"(?<![\w.,+\-])(\d{3}" + _SEP + r"\d{2}" + _SEP + r"\d{2}" + _SEP + r"\d{2}|\d{3}" + _SEP
               + r"\d{3}" + _SEP + r"\d{3}|\d{4}" + _SEP + r"\d{2}" + _SEP + r"\d{3}|\d{8,9})(?![\w\-]|[.,]\d)"),
    0.7, lambda v: elfproef(_digits(v)),
    context=("bsn", "burgerservice", "sofi", "citizen service", "social security"),
    explanation="9 digits passing the elfproef",
)
IBAN = PatternRule(
    "IBAN", "IbanRecognizer",
    re.compile(r"(?<![\w])([A-Z]{2}\d{2} ?[A-Z0-9]{4}(?: ?[A-Z0-9]{4}){1,6}(?: ?[A-Z0-9]{1,3})?)(?![\w])"),
    0.9, iban_valid, context=("iban", "rekening", "account"), explanation="IBAN passing mod 97",
)
# The length of the IBAN of every country in the IBAN registry (ISO 13616): a candidate must match it exactly,
# or one in 97 random strings of letters and digits would pass mod 97.
_IBAN_REGISTRY = """
AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 ES24 FI18
FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20
LU20 LV21 MA28 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24
SI19 SK24 SM27 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20
"""
_IBAN_LENGTHS = {item[:2]: int(item[2:]) for item in _IBAN_REGISTRY.split()}
_DUTCH_BBAN = re.compile(r"NL\d{2}[A-Z]{4}\d{10}")
# A country code and check digits, then up to 30 letters or digits, each optionally after one separator.
_IBAN_ANY = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2} ?\d{2}(?:[ .\-]?[A-Za-z0-9]){10,30}")


@dataclass
class IbanDetector:
    """IBANs in any case and with any spacing ("nl91 abna 0417 1643 00", "NL91ABNA 0417164300"), by mod 97.

    The candidate may run on into the next word; it is cut back at a separator until its length fits its
    country and the checksum holds (at most 30 tries of a 34-character number: linear time)."""

    name: str = "IbanRecognizer"
    types: tuple[str, ...] = ("IBAN",)

    def detect(self, text: str) -> list[Detection]:
        """Every IBAN that passes mod 97, with a context word raising its score."""
        found = []
        for match in _IBAN_ANY.finditer(text):
            start, end = match.span()
            for cut in range(end, start + 14, -1):
                if cut < len(text) and text[cut].isalnum() or text[cut - 1] in " .-":
                    continue  # never end inside a word, nor on a separator
                value = text[start:cut]
                compact = re.sub(r"[ .\-]", "", value).upper()
                if len(compact) != _IBAN_LENGTHS.get(compact[:2]) or compact[:2] == "NL" and not \
                        _DUTCH_BBAN.fullmatch(compact):
                    continue
                if iban_valid(compact):
                    score = 0.95 if has_context(text, start, cut, IBAN.context) else 0.9
                    found.append(Detection("IBAN", start, cut, score, self.name, "IBAN passing mod 97"))
                    break
        return found


EMAIL = PatternRule(
    "EMAIL", "EmailRecognizer",
    re.compile(r"(?<![\w.%+\-])([A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
               r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24})(?![\w@])"),
    0.9, explanation="e-mail address",
)


def _dutch_phone(value: str) -> bool:
    digits = _digits(value)
    international = digits.startswith("0031") or value.lstrip("( ").startswith("+31")
    if digits.startswith("0031"):
        digits = digits[4:]
    elif international:
        digits = digits[2:]
    elif digits.startswith("0"):
        return len(digits) == 10  # a domestic number is ten digits with its trunk zero
    else:
        return False
    while digits.startswith("0"):  # "+31 (0)20 ..."; a doubled trunk zero is also seen in the wild
        digits = digits[1:]
    # After +31 a digit can be lost to a misplaced "(0)"; the country code is evidence enough.
    return len(digits) == 9 or (international and len(digits) == 8)


PHONE = PatternRule(
    "TELEFOON", "DutchPhoneRecognizer",
    re.compile(r"(?<![\w+])((?:\+31|0031)[ \-]?(?:\(0\)[ \-]?)?\(?\d[\d \-().]{7,14}\d"
               r"|\(0\d{1,3}\)[ \-]?\d[\d \-]{4,9}\d"
               r"|0\d[\d \-.]{7,12}\d)(?![\w])"),
    0.75, _dutch_phone, context=("tel", "telefoon", "bel", "mobiel", "phone", "nummer", "call"),
    explanation="Dutch phone number (06, +31, 0031, 0xx)",
)
PHONE_14 = PatternRule(
    "TELEFOON", "MunicipalPhoneRecognizer",
    re.compile(r"(?<![\w+\-])(14[ \-]?0\d{2,3})(?![\w\-])"),
    0.4, context=("tel", "telefoon", "bel", "phone", "nummer", "call"), context_score=0.8, needs_context=True,
    explanation="municipal short number 14 0xx(x)",
)
PHONE_INTL = PatternRule(
    "TELEFOON", "InternationalPhoneRecognizer",
    re.compile(r"(?<![\w+])(\+(?!31)[1-9]\d{0,2}[ \-]?\(?\d{1,4}\)?(?:[ \-]?\d{2,4}){2,4})(?![\w])"),
    0.6, lambda v: 8 <= len(_digits(v)) <= 15, context=("tel", "phone", "bel", "call"),
    explanation="international phone number",
)
POSTCODE_TOWN = PatternRule(
    "POSTCODE", "PostcodeRecognizer",
    re.compile(r"(?<![\w\-.,])([1-9]\d{3} ?[A-Z]{2})(?= {1,2}(?:'s-|[A-Z][a-zà-ÿ]))"),
    0.9, explanation="Dutch postcode 9999 XX before a town name",
)
POSTCODE = PatternRule(
    "POSTCODE", "PostcodeRecognizer",
    re.compile(r"(?<![\w\-.,])([1-9]\d{3} ?[A-Z]{2})(?![\w\-])"),
    0.6, context=("postcode", "adres", "woont", "wonend", "address", "zip"),
    explanation="Dutch postcode 9999 XX",
)
# Postcode letters that are also everyday words: in lower case ("in 2024 de gemeente") they need context.
_POSTCODE_WORDS = frozenset(["de", "en", "te", "ze", "we", "je", "na", "al", "om", "op", "in", "is", "as", "at", "be", "by", "he", "me", "my", "no", "of", "on", "or", "so", "to", "up", "us", "an", "am", "do", "go", "hi", "if", "it"])
_STREET_CONTEXT = ("postcode", "adres", "woon", "verhuisd", "address", "zip", "moved", "lives", "live at", "straat",
                   "laan", "weg", "plein", "singel", "dreef", "steeg", "hof", "pad", "ring", "baan", "boulevard",
                   "kade", "gracht", "dijk")


def _postcode(value: str) -> bool:
    """Not "2024 de": letters that are a word count only when glued to the digits ("8461en")."""
    return " " not in value or value[-2:].lower() not in _POSTCODE_WORDS


POSTCODE_ANY_CASE = PatternRule(
    "POSTCODE", "PostcodeRecognizer",
    re.compile(r"(?<![\w\-.,])([1-9]\d{3} ?[A-Za-z]{2})(?![\w\-])"),
    0.6, _postcode, context=_STREET_CONTEXT, context_score=0.85,
    explanation="Dutch postcode 9999 xx in any case",
)
POSTCODE_WORD_LETTERS = PatternRule(
    "POSTCODE", "PostcodeRecognizer",
    re.compile(r"(?<![\w\-.,])([1-9]\d{3} ?[A-Za-z]{2})(?![\w\-])"),
    0.3, lambda v: not _postcode(v), context=_STREET_CONTEXT,
    context_score=0.8, needs_context=True, explanation="Dutch postcode whose letters are a word, with context",
)
KENTEKEN = PatternRule(
    "KENTEKEN", "KentekenRecognizer",
    re.compile(r"(?<![\w\-])((?:[A-Z]{2}-\d{2}-\d{2}|\d{2}-\d{2}-[A-Z]{2}|\d{2}-[A-Z]{2}-\d{2}|[A-Z]{2}-\d{2}-[A-Z]{2}"
               r"|[A-Z]{2}-[A-Z]{2}-\d{2}|\d{2}-[A-Z]{2}-[A-Z]{2}|\d{2}-[A-Z]{3}-\d|\d-[A-Z]{3}-\d{2}"
               r"|[A-Z]{2}-\d{3}-[A-Z]|[A-Z]-\d{3}-[A-Z]{2}|[A-Z]{3}-\d{2}-[A-Z]|[A-Z]-\d{2}-[A-Z]{3}"
               r"|\d-[A-Z]{2}-\d{3}|\d{3}-[A-Z]{2}-\d))(?![\w\-])", re.IGNORECASE),
    0.65, context=("kenteken", "auto", "voertuig", "licence plate", "license plate", "car"),
    explanation="Dutch licence plate sidecode",
)
PASPOORT = PatternRule(
    "PASPOORT", "DocumentNumberRecognizer",
    re.compile(r"(?<![\w\-])([A-NP-Z]{2}[A-NP-Z0-9]{6}\d)(?![\w\-])", re.IGNORECASE),
    0.3, lambda v: any(ch.isdigit() for ch in v[2:8]),
    context=("paspoort", "identiteitskaart", "id-kaart", "idkaart", "documentnummer", "rijbewijs",
             "passport", "identity card", "id card", "document number"), context_score=0.85, needs_context=True,
    explanation="Dutch passport/ID-card number (9 characters)",
)
KVK = PatternRule(
    "KVK", "KvkRecognizer",
    re.compile(r"(?<![\w\-.,])(\d{8})(?![\w\-]|[.,]\d)"),
    0.3, context=("kvk", "kamer van koophandel", "handelsregister", "chamber of commerce"),
    context_score=0.85, needs_context=True, explanation="8-digit KvK number with context",
)
CREDITCARD = PatternRule(
    "CREDITCARD", "CreditCardRecognizer",
    re.compile(r"(?<![\w\-])((?:\d[ \-]?){12,18}\d)(?![\w\-])"),
    0.6, lambda v: 13 <= len(_digits(v)) <= 19 and luhn(_digits(v)) and _digits(v)[0] in "2345678",
    context=("creditcard", "credit card", "card", "kaart", "visa", "mastercard"),
    explanation="card number passing Luhn",
)


def _ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


IP = PatternRule(
    "IP", "IpRecognizer",
    re.compile(r"(?<![\w.:])((?:\d{1,3}\.){3}\d{1,3}|(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}"
               r"|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4})?)(?![\w.:])"),
    0.6, _ip, context=("ip", "adres", "address", "server"), explanation="IPv4 or IPv6 address",
)

_MONTHS = (r"(?:jan(?:uari|uary)?|feb(?:ruari|ruary)?|maart|march|mrt|mar|apr(?:il)?|mei|may|jun[ie]?|jul[iy]?"
           r"|aug(?:ustus|ust)?|sep(?:t|tember)?|okt(?:ober)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
GEBOORTEDATUM = PatternRule(
    "GEBOORTEDATUM", "BirthDateRecognizer",
    re.compile(r"(?<![\w\-/])(\d{1,2}[\-/.]\d{1,2}[\-/.](?:19|20)\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}"
               r"|\d{1,2}(?:st|nd|rd|th|e)? " + _MONTHS + r",? (?:19|20)\d{2}|" + _MONTHS
               + r" \d{1,2}(?:st|nd|rd|th)?,? (?:19|20)\d{2})(?![\w\-/])", re.IGNORECASE),
    0.3, context=("geboren", "geboortedatum", "geb.", "born", "birth", "dob", "d.o.b"),
    context_score=0.85, needs_context=True, explanation="date with a birth context word",
)

ALL_RULES = [BSN, IBAN, EMAIL, PHONE, PHONE_14, PHONE_INTL, POSTCODE_TOWN, POSTCODE, KENTEKEN, PASPOORT, KVK,
             CREDITCARD, IP, GEBOORTEDATUM]
# What a person typed: postcodes in any case too (IBANs in any case come from IbanDetector).
TYPED_RULES = [*ALL_RULES, POSTCODE_ANY_CASE, POSTCODE_WORD_LETTERS]
# Retrieved documents: a lower-case postcode only with an address word nearby.
DOCUMENT_RULES = [*ALL_RULES, POSTCODE_WORD_LETTERS,
                  PatternRule("POSTCODE", "PostcodeRecognizer", POSTCODE_ANY_CASE.regex, 0.3, _postcode,
                              context=_STREET_CONTEXT, context_score=0.8, needs_context=True,
                              explanation="Dutch postcode 9999 xx in any case, with context")]
