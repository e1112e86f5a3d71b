"""The evaluation data: Faker-generated Dutch and English sentences with known personal data, and policy pages.

Imported by the tests and by bench/pii.py. Names come from Faker's lists, which the detector's own lists
(OpenTaal, the US census, a hand-made list) were not built from; many common names are in both, so recall on
names in neither list is reported apart. Every sentence also comes in a lower-case, a capitals and a
no-punctuation variant, and there are chat-style sentences typed as people type them.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass

from faker import Faker

from tests.paths import CORPUS as SHARED_CORPUS

CORPUS = SHARED_CORPUS / "algoritmekader"
PAGE_CHARS = 3000


@dataclass(frozen=True)
class Sample:
    """A sentence and the (type, start, end) of every value put into it."""

    text: str
    spans: list[tuple[str, int, int]]
    language: str


_NL = [
    "Schrijf een brief aan {PERSOON} over de aanvraag met BSN {BSN}.",
    "Kun je het bezwaar van {PERSOON} ({EMAIL}) samenvatten?",
    "{PERSOON} woont op {ADRES}, {POSTCODE} {city} en is bereikbaar op {TELEFOON}.",
    "De toeslag moet worden overgemaakt naar {IBAN} op naam van {PERSOON}.",
    "Graag een afspraak inplannen voor {PERSOON}, geboren op {GEBOORTEDATUM}.",
    "Het burgerservicenummer {BSN} hoort bij {PERSOON}, {ADRES} in {city}.",
    "Stuur de beschikking naar {EMAIL} en een kopie naar {ADRES}, {POSTCODE} {city}.",
    "De auto met kenteken {KENTEKEN} staat al weken geparkeerd voor {ADRES}.",
    "Wat moet ik doen als {PERSOON} het rekeningnummer {IBAN} wil wijzigen?",
    "Melding van {PERSOON}: overlast bij de buren, terugbellen op {TELEFOON}.",
    "Vandaag sprak ik met {PERSOON} over de schuldhulp; zij is verhuisd naar {ADRES}.",
    "In het dossier staan {BSN} en postcode {POSTCODE}; de aanvrager is {PERSOON}.",
]
_EN = [
    "Please write a letter to {PERSOON} about the application, citizen service number {BSN}.",
    "{PERSOON} lives at {ADRES} and can be reached at {EMAIL}.",
    "Can you summarise the complaint from {PERSOON}? Her phone number is {TELEFOON}.",
    "The refund should go to {IBAN}, account holder {PERSOON}.",
    "Schedule a meeting with {PERSOON}, born on {GEBOORTEDATUM}, next week.",
    "Our client {PERSOON} moved to {ADRES}, {POSTCODE} {city}.",
    "I spoke with {PERSOON} yesterday about the permit for {ADRES_NL}.",
    "Send the decision to {EMAIL} and copy {PERSOON}.",
]
_MONTHS_NL = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
              "november", "december"]


def _person(fake: Faker, unlisted: bool) -> str:
    """A first name and surname from Faker; with ``unlisted``, one none of whose words is in our lists if one
    turns up in 300 tries (Faker's English names are all in the census lists: those are counted elsewhere)."""
    for _ in range(300 if unlisted else 1):
        name = f"{fake.first_name()} {fake.last_name()}"
        if not unlisted or _unlisted(name):
            break
    return name


def samples(count: int = 400, seed: int = 2026, unlisted: bool = False) -> list[Sample]:
    """``count`` sentences, half Dutch and half English, deterministic for a seed; with ``unlisted`` every
    person is one whose name is in neither of our lists."""
    nl, en = Faker("nl_NL"), Faker("en_US")
    nl.seed_instance(seed)
    en.seed_instance(seed + 1)
    rng = random.Random(seed)
    result = []
    for index in range(count):
        english = index % 2 == 1
        template = (_EN if english else _NL)[index // 2 % len(_EN if english else _NL)]
        fake = en if english else nl
        birth = nl.date_of_birth(minimum_age=18, maximum_age=95)
        values = {
            "PERSOON": _person(fake, unlisted),
            "BSN": nl.ssn(),
            "IBAN": nl.iban() if rng.random() < 0.5 else " ".join(re.findall(".{1,4}", nl.iban())),
            "EMAIL": fake.email(),
            "TELEFOON": nl.phone_number(),
            "POSTCODE": nl.postcode(),
            "ADRES": (en if english else nl).street_address(),
            "ADRES_NL": nl.street_address(),
            "KENTEKEN": nl.license_plate(),
            "GEBOORTEDATUM": (birth.strftime("%B %-d, %Y") if english else
                              rng.choice([birth.strftime("%d-%m-%Y"),
                                          f"{birth.day} {_MONTHS_NL[birth.month - 1]} {birth.year}"])),
            "city": nl.city(),
        }
        text, spans = "", []
        for literal, field in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
            text += literal
            if field:
                kind = "ADRES" if field == "ADRES_NL" else field
                if kind != "city":
                    spans.append((kind, len(text), len(text) + len(values[field])))
                text += values[field]
        result.append(Sample(text, spans, "en" if english else "nl"))
    return result


VARIANTS = ("as generated", "lower case", "capitals", "no punctuation")
# Punctuation a hasty typist leaves out; a full stop only where it ends a word (e-mail addresses keep theirs).
_DROPPED = re.compile(r"[,;:!?()\"“”]|\.(?=\s|$)")


def _same_length(text: str, change) -> str:
    """``change`` applied per character, keeping characters whose changed form has another length ("ß")."""
    return "".join(changed if len(changed := change(ch)) == 1 else ch for ch in text)


def variant(sample: Sample, name: str) -> Sample:
    """``sample`` as typed in variant ``name`` (one of VARIANTS), with its spans moved along."""
    if name == "as generated":
        return sample
    if name == "lower case":
        return Sample(_same_length(sample.text, str.lower), sample.spans, sample.language)
    if name == "capitals":
        return Sample(_same_length(sample.text, str.upper), sample.spans, sample.language)
    if name != "no punctuation":
        raise ValueError(name)
    kept = [i for i in range(len(sample.text)) if not _DROPPED.match(sample.text, i)]
    position = {old: new for new, old in enumerate(kept)}
    text = "".join(sample.text[i] for i in kept)

    def moved(index: int) -> int:
        while index < len(sample.text) and index not in position:
            index += 1
        return position.get(index, len(text))

    spans = [(kind, moved(start), moved(end)) for kind, start, end in sample.spans]
    return Sample(text, spans, sample.language)


# Chat-style sentences, written as people type into a chat box: lower case, titles without dots, no full stop.
_CHAT_NL = [
    "kun je een brief maken voor mevr {SURNAME} over haar bijstand",
    "ik ben {PERSOON} en woon op {ADRES} in {city}",
    "mijn naam is {PERSOON} en mijn iban is {IBAN}",
    "namens {PERSOON} wil ik bezwaar maken tegen de beschikking",
    "t.n.v. {PERSOON}, {ADRES}, {POSTCODE} {city}",
    "gesprek gehad met dhr {SURNAME} over de schuldhulp",
    "heb je het adres van {PERSOON}? volgens mij is het {ADRES}",
    "wat moet ik doen als {PERSOON} haar paspoort {PASPOORT} kwijt is",
    "mw. {SURNAME} belde over haar toeslag, bsn {BSN}",
    "de auto van {PERSOON} met kenteken {KENTEKEN} staat nog steeds op de stoep",
    "graag terugbellen: {PERSOON} {TELEFOON}",
    "ik sprak met {PERSOON} over haar aanvraag, ze woont nu op {ADRES}",
]
_CHAT_EN = [
    "can you write to mrs {SURNAME} about her benefits",
    "my name is {PERSOON} and i live at {ADRES}",
    "hi, this is {PERSOON}, my iban is {IBAN}",
    "please call {PERSOON} back on {TELEFOON}",
]
_PASSPORT_LETTERS = "ABCDEFGHIJKLMNPQRSTUVWXYZ"


def _passport(rng: random.Random) -> str:
    middle = [rng.choice(_PASSPORT_LETTERS + "0123456789") for _ in range(6)]
    middle[rng.randrange(6)] = rng.choice("0123456789")
    return rng.choice(_PASSPORT_LETTERS) + rng.choice(_PASSPORT_LETTERS) + "".join(middle) + str(rng.randrange(10))


def chat_samples(count: int = 320, seed: int = 2027, unlisted: bool = False) -> list[Sample]:
    """``count`` chat-style sentences, three Dutch to one English, deterministic for a seed."""
    nl, en = Faker("nl_NL"), Faker("en_US")
    nl.seed_instance(seed)
    en.seed_instance(seed + 1)
    rng = random.Random(seed)
    result = []
    for index in range(count):
        english = index % 4 == 3
        templates = _CHAT_EN if english else _CHAT_NL
        template = templates[(index // 4 if english else index - index // 4) % len(templates)]
        fake = en if english else nl
        iban = nl.iban()
        values = {
            "PERSOON": _person(fake, unlisted),
            "SURNAME": fake.last_name(),
            "BSN": nl.ssn(),
            "IBAN": rng.choice([iban, iban.lower(), " ".join(re.findall(".{1,4}", iban.lower()))]),
            "TELEFOON": nl.phone_number(),
            "POSTCODE": rng.choice([nl.postcode(), nl.postcode().lower()]),
            "ADRES": (en if english else nl).street_address().lower(),
            "KENTEKEN": nl.license_plate().lower(),
            "PASPOORT": _passport(rng),
            "city": nl.city().lower(),
        }
        values["PERSOON"] = values["PERSOON"].lower()
        values["SURNAME"] = values["SURNAME"].lower()
        text, spans = "", []
        for literal, field in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
            text += literal
            if field:
                kind = "PERSOON" if field == "SURNAME" else field
                if kind != "city":
                    spans.append((kind, len(text), len(text) + len(values[field])))
                text += values[field]
        result.append(Sample(text, spans, "en" if english else "nl"))
    return result


def pages(count: int = 20) -> list[str]:
    """``count`` pages of ~3,000 characters of Dutch policy text, chosen deterministically from the corpus."""
    files = sorted(p for p in CORPUS.glob("*.md") if not p.name.startswith("LICENSE"))
    texts = [p.read_text(encoding="utf-8") for p in files]
    texts = [t for t in texts if len(t) >= PAGE_CHARS]
    step = len(texts) / count
    return [texts[int(i * step)][:PAGE_CHARS] for i in range(count)]


def evaluation_set(unlisted: bool = False) -> dict[str, list[Sample]]:
    """Every variant of the generated sentences plus the chat-style sentences, by variant name; with
    ``unlisted``, a second set whose full names are all in neither of our lists."""
    generated = samples(200, 2028, unlisted=True) if unlisted else samples()
    chat = chat_samples(80, 2029, unlisted=True) if unlisted else chat_samples()
    return {name: [variant(s, name) for s in generated + chat] for name in VARIANTS}


def _unlisted(text: str) -> bool:
    """True when no word of the name is in the detector's first-name or surname lists."""
    from guardrails.lexicon import lexicon

    lists = lexicon()
    parts = [p for p in re.split(r"[\s\-]+", text.lower()) if p]
    return not any(lists.is_first_name(p) or lists.is_surname(p) for p in parts
                   if p not in {"van", "de", "der", "den", "het", "'t", "ter", "ten", "te", "in", "op", "el", "al"})


def recall(redactor, sentences: list[Sample], kind: str = "typed") -> tuple[Counter, Counter]:
    """Found and total per type: a value counts when all its characters are covered by findings, one of its
    own type. The type "PERSOON (in neither list)" counts names none of whose words are in the lists."""
    from guardrails import Vault

    found, total = Counter(), Counter()
    for sample in sentences:
        findings = redactor.redact(sample.text, Vault(), kind=kind).findings
        covered = {i for f in findings for i in range(f.start, f.end)}
        for kind_, start, end in sample.spans:
            whole = {i for i in range(start, end) if not sample.text[i].isspace()} <= covered
            typed = any(f.type == kind_ and f.start < end and f.end > start for f in findings)
            kinds = [kind_] + (["PERSOON (in neither list)"] if kind_ == "PERSOON"
                               and _unlisted(sample.text[start:end]) else [])
            for name in kinds:
                total[name] += 1
                found[name] += whole and typed
    return found, total


def false_positives(redactor, texts: list[str], kind: str) -> Counter:
    """Findings per type on texts that hold no personal data."""
    from guardrails import Vault

    counts: Counter = Counter()
    for text in texts:
        for finding in redactor.redact(text, Vault(), kind=kind).findings:
            counts[finding.type] += 1
    return counts
