import pytest

from guardrails.names import NameDetector

detector = NameDetector()


def names_in(text: str) -> list[str]:
    return [text[d.start:d.end] for d in detector.detect(text) if d.score >= 0.5]


@pytest.mark.parametrize("text, name", [
    ("Schrijf een brief aan Jan de Vries over zijn aanvraag.", "Jan de Vries"),
    ("Gesprek met dhr. Hakker-Recers over de aanvraag.", "dhr. Hakker-Recers"),
    ("Gesprek met mevr. J.P. Boddaugh over de aanvraag.", "mevr. J.P. Boddaugh"),
    ("Vandaag belde de heer Yılmaz over zijn WOZ-beschikking.", "de heer Yılmaz"),
    ("Lois Lucas woont in Garminge.", "Lois Lucas"),
    ("De toeslag gaat naar Zakaria van 't Riet-Bloemendaal.", "Zakaria van 't Riet-Bloemendaal"),
    ("Wethouder Van Dam opent het stadskantoor.", "Van Dam"),
    ("De Vries belde gisteren.", "De Vries"),
    ("Please send it to Ryan Gallagher today.", "Ryan Gallagher"),
    ("Beste Amélie, dank je.", "Amélie"),
])
def test_person_name_is_found(text, name):
    assert name in names_in(text)


@pytest.mark.parametrize("text", [
    "De Europese Commissie en de Autoriteit Persoonsgegevens.",
    "Het ministerie van Binnenlandse Zaken en Koninkrijksrelaties.",
    "Zie artikel 13 Verordening Artificiële Intelligentie.",
    "De gemeente Den Haag gebruikt een algoritme.",
    "## Maatregel\nBepaal en documenteer waar het algoritme wordt gebruikt.",
    "Het KvK-uittreksel van de Wmo-aanvraag ligt bij Zorgbureau B.V. in Utrecht.",
])
def test_policy_language_is_not_a_name(text):
    assert names_in(text) == []
