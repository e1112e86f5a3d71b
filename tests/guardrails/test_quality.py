"""The quality bar of issues 3 and 13: recall per type and per variant (as generated, lower case, capitals, no
punctuation, plus chat-style sentences) and false positives on policy pages, in both settings."""

import pytest
from pii_evaluation import VARIANTS, evaluation_set, false_positives, pages, recall

from guardrails import Vault

STRUCTURED = ("BSN", "IBAN", "EMAIL", "POSTCODE", "KENTEKEN", "PASPOORT", "GEBOORTEDATUM")
BAR = {**dict.fromkeys(STRUCTURED, 0.98), "PERSOON": 0.90, "ADRES": 0.90}
# Dutch phone numbers as Faker writes some of them ("+31(0)008 036624") are not valid numbers: 0.97 holds.
BAR["TELEFOON"] = 0.97
PER_PAGE = {"typed": 1.0, "document": 0.3}


@pytest.fixture(scope="module")
def sentences():
    return evaluation_set()


@pytest.mark.parametrize("variant", VARIANTS)
def test_recall_per_type_meets_the_bar_in_every_variant(redactor, sentences, variant):
    found, total = recall(redactor, sentences[variant], kind="typed")
    print(f"\nrecall, {variant}, {len(sentences[variant])} sentences (question setting):")
    for kind in sorted(total):
        print(f"  {kind:<26} {found[kind]:>4}/{total[kind]:<4} {found[kind] / total[kind]:.3f}")
    for kind, bar in BAR.items():
        assert found[kind] / total[kind] >= bar, (variant, kind)


@pytest.mark.parametrize("kind", ["typed", "document"])
@pytest.mark.parametrize("lowered", [False, True], ids=["as written", "lower case"])
def test_false_positives_on_policy_pages_stay_under_the_bar(redactor, kind, lowered):
    policy = [page.lower() if lowered else page for page in pages()]
    counts = false_positives(redactor, policy, kind)
    per_page = sum(counts.values()) / len(policy)
    print(f"\nfalse positives, {kind} setting, {len(policy)} pages ({'lower case' if lowered else 'as written'}): "
          f"{per_page:.2f} per page {dict(counts)}")
    assert per_page <= PER_PAGE[kind]


# Surnames that are everyday words count as a name only with support: a first name, a title, a phrase.
@pytest.mark.parametrize("text", [
    "de bakker op de hoek bakt het lekkerste brood",
    "een visser mag hier niet vissen zonder vergunning",
    "de smit repareert het hek van de school",
    "hij is nog jong en de jong geleerd is oud gedaan",
    "het water van dijk en polder wordt door het waterschap beheerd",
    "bel de bakker even voor de taart",
])
def test_common_word_surnames_alone_are_not_names(redactor, text):
    assert not [f for f in redactor.redact(text, Vault()).findings if f.type == "PERSOON"]


@pytest.mark.parametrize("text, name", [
    ("schrijf een brief aan jan bakker over zijn aanvraag", "jan bakker"),
    ("gesprek met mevr visser over de toeslag", "mevr visser"),
    ("namens piet smit wil ik bezwaar maken", "piet smit"),
    ("de aanvraag van anna de jong is binnen", "anna de jong"),
    ("dhr. van dijk belde over zijn uitkering", "dhr. van dijk"),
    ("IK BEN KEES DE JONG EN WOON IN ZWOLLE", "KEES DE JONG"),
])
def test_common_word_surnames_with_support_are_names(redactor, text, name):
    result = redactor.redact(text, Vault())
    assert name not in result.text and "[PERSOON_1]" in result.text


def test_common_word_surnames_are_measured(redactor):
    """The share of everyday-word surnames found with support and left alone without it."""
    surnames = ["bakker", "visser", "smit", "de jong", "van dijk", "mulder", "de boer", "kok", "de groot", "bos"]
    firsts = ["jan", "anna", "piet", "fatima", "kees", "sanne", "mohamed", "els", "henk", "lotte"]
    with_support = [f"kun je een brief maken aan {f} {s} over de bijstand" for f, s in zip(firsts, surnames)]
    with_support += [f"gesprek met mevr {s} over haar toeslag" for s in surnames]
    without = [f"de {s.split()[-1]} in het dorp is al jaren dezelfde" for s in surnames]
    found = sum(bool([f for f in redactor.redact(t, Vault()).findings if f.type == "PERSOON"]) for t in with_support)
    wrong = sum(bool([f for f in redactor.redact(t, Vault()).findings if f.type == "PERSOON"]) for t in without)
    print(f"\neveryday-word surnames: {found}/{len(with_support)} found with support, "
          f"{wrong}/{len(without)} taken for a name without")
    assert found == len(with_support) and wrong <= 1


@pytest.mark.parametrize("variant", VARIANTS)
def test_recall_on_names_in_neither_list_is_reported(redactor, variant):
    """A second set in which every full name (first name and surname) is in none of our lists."""
    sentences = evaluation_set(unlisted=True)[variant]
    found, total = recall(redactor, sentences, kind="typed")
    share = found["PERSOON (in neither list)"] / total["PERSOON (in neither list)"]
    print(f"\nnames in neither list, {variant}: {found['PERSOON (in neither list)']}/"
          f"{total['PERSOON (in neither list)']} = {share:.3f}")
    assert share >= 0.75
