"""Bad input: long runs of lower-case words, all surnames, hundreds of addresses, binary junk. Each gives a clear
result in time that grows linearly with the length (no regular expression may backtrack worse than that)."""

import random
import re
import time

import pytest
from pii_evaluation import pages

from guardrails import Redaction, Vault
from guardrails.lexicon import lexicon


def _lower_words(count: int) -> str:
    words = re.findall(r"[a-zà-ÿ]+", " ".join(pages()).lower())
    return " ".join(words[i % len(words)] for i in range(count))


def _surnames(count: int) -> str:
    names = sorted(lexicon().surnames)
    rng = random.Random(13)
    return " ".join(rng.choice(names) for _ in range(count))


def _addresses(count: int) -> str:
    rng = random.Random(13)
    streets = ["kerkstraat", "Dorpsstraat", "VAN DER HOOPSTRAAT", "burgemeester de withlaan", "Oude Gracht"]
    return "\n".join(f"{rng.choice(streets)} {rng.randrange(1, 999)}{rng.choice(['', 'a', '-2', ' bis'])}, "
                     f"{rng.randrange(1000, 9999)} {rng.choice(['ab', 'XY', 'kl'])} utrecht" for _ in range(count))


def _junk(count: int) -> str:
    rng = random.Random(13)
    return bytes(rng.randrange(256) for _ in range(count)).decode("utf-8", errors="replace")


def _seconds(redactor, text: str) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        result = redactor.redact(text, Vault())
        best = min(best, time.perf_counter() - started)
        assert isinstance(result, Redaction)
    return best


@pytest.mark.parametrize("make, size", [(_lower_words, 5_000), (_surnames, 2_500), (_addresses, 250),
                                        (_junk, 40_000)], ids=["lower-case words", "surnames", "addresses", "junk"])
def test_time_grows_linearly_with_the_input(redactor, make, size):
    small, large = _seconds(redactor, make(size)), _seconds(redactor, make(2 * size))
    print(f"\n{make.__name__.strip('_')}: {size:,} -> {small * 1000:.0f} ms, {2 * size:,} -> {large * 1000:.0f} ms")
    assert large < 3.0 * small + 0.05  # twice the input: about twice the time, never four times


def test_ten_thousand_lower_case_words_give_a_clear_result(redactor):
    text = _lower_words(10_000)
    started = time.perf_counter()
    result = redactor.redact(text, Vault())
    assert time.perf_counter() - started < 10
    # Policy words without punctuation, URLs cut into words: fewer than one finding per 1,000 characters.
    assert len(result.findings) < len(text) / 1000


def test_a_text_of_surnames_is_redacted_not_refused(redactor):
    result = redactor.redact("mevr " + _surnames(2_000), Vault())
    assert result.findings and result.findings[0].type == "PERSOON"


def test_five_hundred_addresses_are_all_found(redactor):
    text = _addresses(500)
    result = redactor.redact(text, Vault())
    assert sum(f.type == "ADRES" for f in result.findings) == 500
    assert sum(f.type == "POSTCODE" for f in result.findings) >= 500 * 2 // 3  # "ab" and "kl"; "XY" too


def test_binary_junk_gives_a_clear_result(redactor):
    result = redactor.redact(_junk(100_000), Vault())
    assert isinstance(result.text, str)
