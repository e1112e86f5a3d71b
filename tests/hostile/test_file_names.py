"""File names (often holding a citizen's name) pass the redactor before they reach audit metadata or logs;
names that try to escape the upload directory or carry control characters are made harmless."""

from __future__ import annotations

import pytest

from core.errors import RedactionError
from guardrails import FakeRedactor
from web.documents.indexing import UNCHECKED_NAME, clean_filename, logged_name


@pytest.mark.parametrize(("name", "personal", "suffix"), [
    ("Jan de Vries bezwaar.md", "Vries", ".md"),
    ("bezwaar_jan_de_vries.pdf", "vries", ".pdf"),
    ("Bezwaar-Fatima-El-Amrani.docx", "Amrani", ".docx"),
    ("123456782 aanvraag.pdf", "123456782", ".pdf"),
    ("brief aan mevrouw Bakker.txt", "Bakker", ".txt"),
])
def test_personal_data_in_a_file_name_is_replaced(redactor, name: str, personal: str, suffix: str) -> None:
    logged = logged_name(name, redactor)
    assert personal.lower() not in logged.lower() and "[" in logged and logged.endswith(suffix)


def test_a_file_name_without_personal_data_stays_readable(redactor) -> None:
    assert logged_name("beleid_thuiswerken.md", redactor) == "Beleid Thuiswerken.md"


def test_a_name_that_cannot_be_checked_is_not_logged() -> None:
    class Broken(FakeRedactor):
        def redact(self, text, vault, kind="typed"):  # type: ignore[no-untyped-def]
            raise RedactionError("down")

    assert logged_name("Jan de Vries.pdf", Broken()) == UNCHECKED_NAME + ".pdf"


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system.ini", "system.ini"),
    ("a\x00b\n\r\x1b[31mrood.md", "ab_31mrood.md"),
    ("....", "document"),
    ("x" * 300 + ".md", "x" * 117 + ".md"),
])
def test_hostile_upload_names_are_cleaned(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean
