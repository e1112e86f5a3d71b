"""The evaluation data: Faker-generated Dutch and English sentences with known personal data, and policy pages.

Imported by the tests and by bench/pii.py. Names come from Faker's lists, which the detector's own curated
lists were not built from; some common names are in both.
"""

from __future__ import annotations

import random
import re
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


def samples(count: int = 400, seed: int = 2026) -> list[Sample]:
    """``count`` sentences, half Dutch and half English, deterministic for a seed."""
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
            "PERSOON": f"{fake.first_name()} {fake.last_name()}",
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


def pages(count: int = 20) -> list[str]:
    """``count`` pages of ~3,000 characters of Dutch policy text, chosen deterministically from the corpus."""
    files = sorted(p for p in CORPUS.glob("*.md") if not p.name.startswith("LICENSE"))
    texts = [p.read_text(encoding="utf-8") for p in files]
    texts = [t for t in texts if len(t) >= PAGE_CHARS]
    step = len(texts) / count
    return [texts[int(i * step)][:PAGE_CHARS] for i in range(count)]
