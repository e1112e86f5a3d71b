import json

import pytest

from core.errors import RedactionError, UserError
from guardrails import FakeRedactor, Finding, PiiSettings, Redaction, Vault, manifest

QUESTION = ("Schrijf een brief aan Jan de Vries, BSN 111222333, IBAN NL91 ABNA 0417 1643 00, tel. 06-12345678, "
            "over zijn aanvraag. Hij woont op de Kerkstraat 12, 1234 AB Utrecht.")


def test_question_comes_back_without_any_value(redactor):
    result = redactor.redact(QUESTION, Vault())
    for value in ("Jan de Vries", "111222333", "NL91 ABNA 0417 1643 00", "06-12345678", "Kerkstraat 12", "1234 AB"):
        assert value not in result.text
    assert {f.type for f in result.findings} >= {"PERSOON", "BSN", "IBAN", "TELEFOON", "ADRES", "POSTCODE"}


def test_finding_offsets_point_into_the_original_text(redactor):
    text = "BSN 111\u200b222333 van mevrouw Jansen"
    result = redactor.redact(text, Vault())
    spans = {f.type: text[f.start:f.end] for f in result.findings}
    assert spans["BSN"] == "111\u200b222333"
    assert spans["PERSOON"] == "mevrouw Jansen"


@pytest.mark.parametrize("text, value", [
    ("BSN １１１２２２３３３ graag", "１１１２２２３３３"),
    ("BSN 1 1 1 2 2 2 3 3 3 graag", "1 1 1 2 2 2 3 3 3"),
    ("IBAN NL91\u00a0ABNA\u00a00417\u00a01643\u00a000 graag", "NL91\u00a0ABNA\u00a00417\u00a01643\u00a000"),
    ("mail jan\u200b@example.nl graag", "jan\u200b@example.nl"),
])
def test_hidden_identifiers_are_found_after_normalisation(redactor, text, value):
    result = redactor.redact(text, Vault())
    assert value not in result.text
    assert any(text[f.start:f.end] == value for f in result.findings)


def test_text_mixing_dutch_and_english_is_redacted(redactor):
    text = "Kun je dit vertalen? Dear Mrs Johnson, your BSN 111222333 and the address Dorpsstraat 4 are known."
    result = redactor.redact(text, Vault())
    assert result.text == ("Kun je dit vertalen? Dear [PERSOON_1], your BSN [BSN_1] and the address [ADRES_1] "
                           "are known.")


def test_restore_gives_the_asker_back_the_original_values(redactor):
    vault = Vault()
    result = redactor.redact(QUESTION, vault)
    assert redactor.restore(result.text, vault) == QUESTION


def test_same_value_in_a_later_turn_gets_the_same_placeholder(redactor):
    vault = Vault()
    first = redactor.redact("BSN 111222333 graag", vault)
    second = redactor.redact("Nogmaals: 111 222 333", vault)
    assert first.findings[0].placeholder == second.findings[0].placeholder == "[BSN_1]"


def test_allow_listed_municipality_details_are_kept(redactor):
    text = "Gemeente Voorbeeld, Raadhuisplein 1, 1234 AB Voorbeeld, telefoon 14 0123."
    assert redactor.redact(text, Vault()).text == text


def test_policy_sentence_is_left_alone(redactor):
    text = "De Autoriteit Persoonsgegevens ziet toe op de Algemene Verordening Gegevensbescherming (AVG)."
    assert redactor.redact(text, Vault()).findings == []


def test_english_name_the_lists_miss_is_found_by_english_ner(redactor):
    result = redactor.redact("I met Brayden at the front desk yesterday and he was upset.", Vault())
    assert result.text == "I met [PERSOON_1] at the front desk yesterday and he was upset."
    assert result.findings[0].recognizer == "EnglishNerRecognizer"


def test_english_ner_is_skipped_when_no_capitalised_word_is_unexplained(redactor, monkeypatch):
    calls = []
    analyze_raw = redactor.engine.analyze_raw
    monkeypatch.setattr(redactor.engine, "analyze_raw",
                        lambda text, language, kind=None: calls.append(language) or analyze_raw(text, language, kind))
    redactor.redact("Can you summarise the policy on remote work? Please list the main obligations.", Vault())
    assert calls == ["nl"]


@pytest.mark.parametrize("text", ["", "   \n\t  ", "\x00\x01\xff\ufffd" * 100, "Hallo, can you help me? Dank je!"])
def test_odd_input_gives_a_clear_result(redactor, text):
    result = redactor.redact(text, Vault())
    assert isinstance(result, Redaction)


def test_one_megabyte_input_is_redacted(redactor):
    text = ("De gemeente heeft beleid voor algoritmes en publiceert dit in het register. " * 14_000)[:1_000_000]
    text += " BSN 111222333"
    result = redactor.redact(text, Vault())
    assert result.text.endswith("BSN [BSN_1]")


def test_too_long_input_is_refused_as_a_user_error():
    with pytest.raises(UserError):
        FakeRedactor(PiiSettings(max_chars=10)).redact("x" * 11, Vault())


def test_detection_failure_fails_closed(redactor, monkeypatch):
    def broken(text, english, kind=None):
        raise RuntimeError("engine down")

    monkeypatch.setattr(redactor.engine, "analyze", broken)
    with pytest.raises(RedactionError):
        redactor.redact("BSN 111222333", Vault())


def test_manifest_holds_no_values():
    finding = Finding("BSN", 4, 13, "[BSN_1]", 0.95, "BsnRecognizer")
    assert manifest([finding]) == [{"type": "BSN", "start": 4, "end": 13, "placeholder": "[BSN_1]"}]
    assert "111" not in json.dumps(manifest([finding]))


def test_fake_redactor_has_the_same_interface():
    fake = FakeRedactor()
    vault = Vault()
    result = fake.redact("BSN 111222333, mail jan@example.nl", vault)
    assert result.text == "BSN [BSN_1], mail [EMAIL_1]"
    assert fake.restore(result.text, vault) == "BSN 111222333, mail jan@example.nl"
    assert "".join(fake.restore_stream(["[BS", "N_1]"], vault)) == "111222333"


def test_disabled_settings_pass_text_through():
    assert FakeRedactor(PiiSettings(enabled=False)).redact("BSN 111222333", Vault()).findings == []


def test_redacting_already_redacted_text_changes_nothing(redactor):
    vault = Vault()
    once = redactor.redact(QUESTION, vault)
    twice = redactor.redact(once.text, vault)
    assert twice.text == once.text and twice.findings == []


def test_document_setting_still_redacts_a_citizen_quoted_in_a_source(redactor):
    text = "Dossier van Piet Jansen, telefoon 0612345679, iban nl91 abna 0417 1643 00, dhr. de boer belde."
    result = redactor.redact(text, Vault(), kind="document")
    for value in ("Piet Jansen", "0612345679", "nl91 abna", "de boer"):
        assert value not in result.text


def test_document_setting_leaves_lower_case_policy_words_that_the_question_setting_doubts(redactor):
    text = "kun je jeroen vragen of de regeling voor zelfstandigen geldt"
    assert "[PERSOON_1]" in redactor.redact(text, Vault()).text
    assert redactor.redact(text, Vault(), kind="document").text == text


def test_an_unknown_kind_of_text_is_refused():
    with pytest.raises(ValueError):
        FakeRedactor().redact("BSN 111222333", Vault(), kind="email")  # type: ignore[arg-type]


def test_a_surname_on_its_own_after_the_full_name_is_the_same_person(redactor):
    vault = Vault()
    first = redactor.redact("ik sprak met jan bakker. bakker wil een afspraak", vault)
    assert first.text == "ik sprak met [PERSOON_1]. [PERSOON_1] wil een afspraak"
    later = redactor.redact("Wat zei De Vries? En wat zei bakker gisteren?", vault)
    assert "bakker" not in later.text and "[PERSOON_1]" in later.text


def test_a_surname_mention_in_a_document_needs_more_than_an_everyday_word(redactor):
    vault = Vault()
    redactor.redact("brief aan jan bakker en mevr el amrani", vault)
    text = redactor.redact("De bakker en el amrani staan in het dossier.", vault, kind="document").text
    assert text == "De bakker en [PERSOON_2] staan in het dossier."
