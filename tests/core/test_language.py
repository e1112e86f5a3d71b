"""The one language guess: Dutch or English by function words."""

from core.language import detect_language, english_share, looks_english


def test_a_dutch_question_is_dutch():
    assert detect_language("Hoeveel dagen per week mag ik thuiswerken?") == "nl"


def test_an_english_question_is_english():
    assert detect_language("How many days a week may I work from home?") == "en"


def test_ties_and_texts_without_function_words_are_dutch():
    assert detect_language("") == "nl"
    assert detect_language("1234 BSN") == "nl"
    assert detect_language("de the") == "nl"


def test_words_of_both_languages_count_for_neither_language_but_as_english_for_ner():
    assert detect_language("we is was of had het") == "nl"
    assert english_share("is was we of had") == 1.0


def test_english_share_and_looks_english():
    assert english_share("Beste Jan, please send the report to me") > 0.5
    assert english_share("Beste Jan, stuur het rapport naar mij") == 0.0
    assert looks_english("Dear team, de vergadering is verplaatst to Monday")
    assert not looks_english("Wat is het beleid voor thuiswerken bij de gemeente?")


def test_in_says_nothing_of_the_language():
    assert english_share("hoe lang blijft mijn chatgeschiedenis in Baken bewaard?") == 0.0
