from guardrails.normalise import normalise


def test_zero_width_characters_are_dropped_and_offsets_map_back():
    text = "BSN 111\u200b222\u200c333."
    result = normalise(text)
    assert result.text == "BSN 111222333."
    assert result.span(4, 13) == (4, 15)


def test_nbsp_and_full_width_digits_become_plain():
    assert normalise("tel\u00a0０６-１２３４５６７８").text == "tel 06-12345678"


def test_digits_spaced_one_by_one_are_joined():
    assert normalise("BSN 1 1 1 2 2 2 3 3 3 graag").text == "BSN 111222333 graag"


def test_ordinary_numbers_keep_their_spaces():
    assert normalise("in 2024 3 besluiten en 06 1234 5678").text == "in 2024 3 besluiten en 06 1234 5678"
