"""One contract for every Redactor (assistant.turn.Redactor): the fake and the real Presidio redactor take
personal data out, keep it in the vault and put it back for the asker; NoRedaction keeps only the round trip."""

from __future__ import annotations

import pytest

from assistant.turn import NoRedaction, Redactor
from guardrails import FakeRedactor, Vault

BSN, EMAIL = "111222333", "jan.jansen@example.nl"
TEXT = f"Mijn BSN is {BSN} en mijn e-mailadres is {EMAIL}. Wat kost een parkeervergunning?"


@pytest.fixture(params=["fake", pytest.param("presidio", marks=pytest.mark.slow)])
def guard(request: pytest.FixtureRequest) -> Redactor:
    """The fake, and the real redactor built once per session (tests/guardrails/conftest.py)."""
    return FakeRedactor() if request.param == "fake" else request.getfixturevalue("redactor")


@pytest.fixture(params=["fake", "none", pytest.param("presidio", marks=pytest.mark.slow)])
def any_guard(request: pytest.FixtureRequest) -> Redactor:
    """Every redactor, including the one that changes nothing."""
    if request.param == "none":
        return NoRedaction()
    return FakeRedactor() if request.param == "fake" else request.getfixturevalue("redactor")


@pytest.mark.parametrize("kind", ["typed", "document"])
def test_personal_data_is_replaced_by_placeholders_named_in_the_findings(guard: Redactor, kind: str) -> None:
    redaction = guard.redact(TEXT, Vault(), kind)
    assert BSN not in redaction.text and EMAIL not in redaction.text
    assert redaction.findings and all(f.placeholder in redaction.text for f in redaction.findings)


def test_the_same_value_gets_the_same_placeholder_in_one_vault(guard: Redactor) -> None:
    vault = Vault()
    first, second = guard.redact(TEXT, vault).text, guard.redact(f"Nogmaals: {EMAIL}", vault).text
    placeholder = next(f.placeholder for f in guard.redact(EMAIL, vault).findings)
    assert placeholder in first and placeholder in second


def test_restoring_the_redacted_text_gives_the_original_back(any_guard: Redactor) -> None:
    vault = Vault()
    redacted = any_guard.redact(TEXT, vault).text
    pieces = [redacted[i:i + 3] for i in range(0, len(redacted), 3)]  # placeholders split across tokens
    assert "".join(any_guard.restore_stream(iter(pieces), vault)) == TEXT


def test_text_without_personal_data_is_left_as_it_is(any_guard: Redactor) -> None:
    redaction = any_guard.redact("Wat kost een parkeervergunning?", Vault())
    assert redaction.text == "Wat kost een parkeervergunning?" and redaction.findings == []
