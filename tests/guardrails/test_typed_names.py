import pytest

from guardrails.typed_names import TypedNameDetector

typed = TypedNameDetector(mode="typed")
document = TypedNameDetector(mode="document")


def names_in(detector: TypedNameDetector, text: str) -> list[str]:
    return [text[d.start:d.end] for d in detector.detect(text) if d.score >= 0.5]


@pytest.mark.parametrize("text, name", [
    ("ik ben jan de vries en woon op kerkstraat 12 in hilversum.", "jan de vries"),
    ("kun je een brief maken voor mevr el amrani over haar bijstand", "mevr el amrani"),
    ("SCHRIJF EEN BRIEF AAN JAN DE VRIES OVER DE AANVRAAG", "JAN DE VRIES"),
    ("gesprek met dhr. hakker-recers over de aanvraag", "dhr. hakker-recers"),
    ("t.n.v. j.p. boddaugh", "t.n.v. j.p. boddaugh"),
    ("mijn naam is fatima el idrissi", "fatima el idrissi"),
    ("namens piet bakker wil ik bezwaar maken", "piet bakker"),
    ("mw. van der klijn belde over haar toeslag", "mw. van der klijn"),
    ("brief aan xandro pietersen over de toeslag", "xandro pietersen"),
    ("kun je jeroen even bellen", "jeroen"),
    ("please write a letter to john smith about it", "john smith"),
    ("de heer de boer is verhuisd", "de heer de boer"),
    ("hoort bij yasmin van baalen lisaweg 18", "yasmin van baalen"),
    ("stuur de brief aan abdelkader van dijk", "abdelkader van dijk"),  # a first name ending in "kader"
])
def test_a_name_is_found_whatever_its_case(text, name):
    assert name in names_in(typed, text)


@pytest.mark.parametrize("text", [
    "ik ben blij met de hulp van de gemeente",
    "mark de tekst als gelezen",
    "de bakker op de hoek",
    "van dijk tot dijk is het een uur lopen",
    "houd rekening mee te houden met de ai-verordening",
    "richt algoritmegovernance in op basis van de risicoclassificatie",
    "zie bijlage vi van de ai-verordening",
    "o.a. de gemeente en het waterschap",
    "https://minbzk.github.io/algoritmekader",
    "tot welk jaar loopt het Informatiebeveiligingsbeleid van Hilversum?",  # a policy compound, then a town
    "wat zegt de Archiefwet van Nederland",
])
def test_ordinary_lower_case_text_holds_no_name(text):
    assert names_in(typed, text) == []


@pytest.mark.parametrize("text, typed_names, document_names", [
    ("kun je jeroen even bellen", ["jeroen"], []),
    ("brief aan xandro pietersen", ["xandro pietersen"], []),
    ("gesprek met dhr jansen", ["dhr jansen"], ["dhr jansen"]),
    ("jan jansen belde", ["jan jansen"], ["jan jansen"]),
])
def test_the_document_setting_asks_for_more(text, typed_names, document_names):
    assert names_in(typed, text) == typed_names
    assert names_in(document, text) == document_names
