import pytest

from guardrails.patterns import (
    ALL_RULES,
    TYPED_RULES,
    IbanDetector,
    PatternDetector,
    elfproef,
    iban_valid,
    luhn,
)

detector = PatternDetector(ALL_RULES)


def types_in(text: str) -> set[str]:
    return {d.type for d in detector.detect(text)}


@pytest.mark.parametrize("bsn, valid", [("111222333", True), ("123456782", True), ("111222334", False),
                                        ("000000000", False), ("12345678", False)])
def test_elfproef_accepts_only_valid_bsns(bsn, valid):
    assert elfproef(bsn) is valid


def test_iban_checksum_with_and_without_spaces():
    assert iban_valid("NL91ABNA0417164300") and iban_valid("NL91 ABNA 0417 1643 00")
    assert not iban_valid("NL91ABNA0417164301")


def test_luhn_accepts_a_test_card_number():
    assert luhn("4111111111111111") and not luhn("4111111111111112")


@pytest.mark.parametrize("text, kind", [
    ("BSN 111222333", "BSN"),
    ("bsn 1112.22.333", "BSN"),
    ("IBAN NL91 ABNA 0417 1643 00", "IBAN"),
    ("rekening NL91ABNA0417164300", "IBAN"),
    ("mail jan.de.vries@example.nl", "EMAIL"),
    ("bel 06-12345678", "TELEFOON"),
    ("bel 06 1234 5678", "TELEFOON"),
    ("bel +31 6 12345678", "TELEFOON"),
    ("bel 0031 20 1234567", "TELEFOON"),
    ("bel 020-1234567", "TELEFOON"),
    ("bel (0111) 123456", "TELEFOON"),
    ("bel 14 020 voor een afspraak", "TELEFOON"),
    ("postcode 1234 AB", "POSTCODE"),
    ("Kerkstraat 1, 1234AB Utrecht", "POSTCODE"),
    ("kenteken 58-PN-QV", "KENTEKEN"),
    ("auto 1-KBB-12", "KENTEKEN"),
    ("paspoortnummer SPECI2014", "PASPOORT"),
    ("KvK-nummer 12345678", "KVK"),
    ("creditcard 4111 1111 1111 1111", "CREDITCARD"),
    ("server 192.168.1.10", "IP"),
    ("geboren op 12-03-1980", "GEBOORTEDATUM"),
    ("born on March 3, 1970", "GEBOORTEDATUM"),
])
def test_structured_identifier_is_detected(text, kind):
    assert kind in types_in(text)


@pytest.mark.parametrize("text", [
    "BSN 111222334",  # fails the elfproef
    "in 2024 zijn 12 besluiten genomen",
    "de vergadering van 12-03-2024",  # a date without a birth context
    "artikel 12345678 van de wet",  # 8 digits without KvK context
    "zie hoofdstuk 3.2.1 en tabel 12",
])
def test_ordinary_text_is_not_detected(text):
    assert not types_in(text)


iban_detector = IbanDetector()


@pytest.mark.parametrize("text, value", [
    ("IBAN: nl91 abna 0417 1643 00", "nl91 abna 0417 1643 00"),
    ("rekening NL91ABNA0417164300 graag", "NL91ABNA0417164300"),
    ("iban nl91abna 0417164300 op naam van", "nl91abna 0417164300"),
    ("iban NL91-ABNA-0417-1643-00.", "NL91-ABNA-0417-1643-00"),
    ("be68 5390 0754 7034 is belgisch", "be68 5390 0754 7034"),
])
def test_iban_is_found_in_any_case_and_spacing(text, value):
    assert [text[d.start:d.end] for d in iban_detector.detect(text)] == [value]


def test_iban_with_a_bad_checksum_is_not_found_in_any_spacing():
    assert iban_detector.detect("iban nl91 abna 0417 1643 01 graag") == []


typed = PatternDetector(TYPED_RULES)


@pytest.mark.parametrize("text, kind", [
    ("kenteken 58-pn-qv", "KENTEKEN"),
    ("auto 1-kbb-12 staat fout", "KENTEKEN"),
    ("paspoortnummer speci2014", "PASPOORT"),
    ("postcode 1234 ab", "POSTCODE"),
    ("kerkstraat 1, 1234ab utrecht", "POSTCODE"),
    ("woont op de kerkstraat 1, 1234 de meern", "POSTCODE"),
])
def test_structured_identifier_is_detected_in_lower_case(text, kind):
    assert kind in {d.type for d in typed.detect(text)}


@pytest.mark.parametrize("text", ["in 2024 de gemeente", "sinds 1998 en later", "artikel 1234 is vervallen"])
def test_a_year_before_a_word_is_not_a_postcode(text):
    assert not typed.detect(text)


@pytest.mark.parametrize("text", ["moved to 196 Paul Camp Apt 511 4486UN Weesp",
                                  "moved to 892 Jeremiah Crescent 8650WL Wyns",
                                  "to 8787 Peter Landing 5161 UH Terschuur"])
def test_words_and_numbers_that_happen_to_pass_mod_97_are_no_iban(text):
    assert iban_detector.detect(text) == []
