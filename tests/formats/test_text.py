"""Text in any common encoding: UTF-8 and UTF-16 with or without a byte-order mark, Windows-1252."""

from __future__ import annotations

import pytest

from core.errors import DocumentError, UnsupportedDocument
from ingestion.parsers import parse
from ingestion.sandbox import SandboxedParser

TEXT = "Coördinatie van de geïnde leges: € 35,50 per aanvraag – zie ‘Tarieven’."


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"])
def test_text_in_each_common_encoding_is_read(sandbox: SandboxedParser, encoding: str) -> None:
    document = sandbox.parse(f"Leges\n\n{TEXT}\n".encode(encoding), "leges.txt")
    assert document.sections[0].text == f"Leges\n\n{TEXT}"


def test_markdown_saved_by_notepad_as_utf16_keeps_its_headings() -> None:
    document = parse("# Afval\n\nDe groene bak wordt op dinsdag geleegd.\n".encode("utf-16"), "afval.md")
    assert (document.title, document.sections[0].heading) == ("Afval", ("Afval",))


@pytest.mark.parametrize(("data", "text"), [
    ("Caf\u00e9 op het plein".encode("latin-1"), "Café op het plein"),
    ("Tekst met \u20ac".encode()[:-1], "Tekst met"),  # UTF-8 cut off inside its last character
])
def test_latin1_and_truncated_utf8_are_read(data: bytes, text: str) -> None:
    assert parse(data, "tekst.txt").sections[0].text == text


@pytest.mark.parametrize(("data", "error"), [
    (b"\x00\x01\x02\x03\x04\x05" * 100, UnsupportedDocument),
    (bytes(range(256)) * 8, DocumentError),
])
def test_binary_content_is_still_refused(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse(data, "binair.txt")
