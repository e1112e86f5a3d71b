"""Spreadsheets (XLSX, ODS, CSV): one group of sections per sheet headed by its name and rows, the header
row's names before each value, empty rows skipped, and bounded on a sheet of a million empty rows."""

from __future__ import annotations

import datetime
import time

import pytest

from core.errors import DocumentError
from ingestion.formats.limits import FormatLimits
from ingestion.parsers import ParseLimits, parse
from ingestion.sandbox import SandboxedParser
from tests.formats import files
from tests.paths import CORPUS

ROWS = [["Besluit", "Datum", "Bedrag"], ["Subsidie buurthuis", datetime.datetime(2026, 3, 1), 1250.0], [],
        ["Snoeien bomen", datetime.datetime(2026, 4, 2), 830.5]]


def test_xlsx_rows_are_readable_alone_under_their_sheet_and_row_numbers(sandbox: SandboxedParser) -> None:
    document = sandbox.parse(files.xlsx({"Besluiten": ROWS, "Leeg": [], "Notities": [["Alleen een regel"]]}),
                             "besluiten.xlsx")
    assert document.kind == "xlsx"
    assert [s.heading for s in document.sections] == [("Besluiten", "rijen 1–4"), ("Notities", "rij 1")]
    assert document.sections[0].text.split("\n\n") == [
        "Kolommen: Besluit; Datum; Bedrag",
        "Besluit: Subsidie buurthuis; Datum: 2026-03-01; Bedrag: 1250",
        "Besluit: Snoeien bomen; Datum: 2026-04-02; Bedrag: 830.5"]


def test_ods_sheets_are_read_like_xlsx(sandbox: SandboxedParser) -> None:
    document = sandbox.parse(files.ods({"Begroting": [["Post", "Bedrag"], ["Wegen", "1200"], ["", ""],
                                                      ["Groen", "800"]]}), "begroting.ods")
    assert document.kind == "ods"
    assert document.sections[0].heading == ("Begroting", "rijen 1–4")
    assert "Post: Groen; Bedrag: 800" in document.sections[0].text


def test_csv_with_semicolons_in_windows_1252_is_read(sandbox: SandboxedParser) -> None:
    data = "Straat;Aantal bomen\nCoöperatiestraat;12\n;\nKerkplein;€ 4\n".encode("cp1252")
    document = sandbox.parse(data, "bomen.csv")
    assert document.kind == "csv"
    assert document.sections[0].text.split("\n\n")[1:] == ["Straat: Coöperatiestraat; Aantal bomen: 12",
                                                          "Straat: Kerkplein; Aantal bomen: € 4"]


def test_long_sheet_is_split_into_row_ranges() -> None:
    rows = [["Nummer", "Omschrijving"]] + [[n, f"Melding over de openbare ruimte nummer {n}"] for n in range(1, 200)]
    document = parse(files.xlsx({"Meldingen": rows}), "meldingen.xlsx")
    headings = [s.heading for s in document.sections]
    assert len(headings) > 5 and headings[0] == ("Meldingen", "rijen 1–11")
    assert all(len(s.text) <= 800 for s in document.sections)


def test_the_shared_corpus_workbook_is_indexed_sheet_by_sheet(sandbox: SandboxedParser) -> None:
    document = sandbox.parse((CORPUS / "documenten" / "AI-verordening_Impact_Analyse.xlsx").read_bytes(),
                             "AI-verordening_Impact_Analyse.xlsx")
    sheets = list(dict.fromkeys(s.heading[0] for s in document.sections))
    assert sheets[:4] == ["Colofon", "Overzicht", "A. Inventarisatie", "B. AI Gebruik"]
    assert any("Vraag: Is er een interne registratielijst" in s.text for s in document.sections)


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_a_million_empty_rows_end_the_sheet_quickly(sandbox: SandboxedParser, kind: str) -> None:
    data = files.xlsx_with_empty_rows(1_000_000) if kind == "xlsx" else \
        files.ods({"Blad1": [["Naam", "Waarde"], ["a", "1"]]}, empty_rows=1_000_000)
    started = time.monotonic()
    document = sandbox.parse(data, f"leeg.{kind}")
    assert time.monotonic() - started < 10
    # Reading stops after FormatLimits.max_empty_rows (1,000) empty rows: the row after the million is not read.
    assert [s.text for s in document.sections] == ["Kolommen: Naam; Waarde\n\nNaam: a; Waarde: 1"]


def test_a_sheet_over_the_row_limit_is_refused() -> None:
    limits = ParseLimits(formats=FormatLimits(max_sheet_rows=50))
    with pytest.raises(DocumentError, match="meer dan 50 gevulde rijen"):
        parse(files.xlsx({"Groot": [[n, "x"] for n in range(100)]}), "groot.xlsx", limits)


def test_encrypted_xlsx_is_refused_with_the_reason(sandbox: SandboxedParser) -> None:
    with pytest.raises(DocumentError, match="versleuteld Office-bestand"):
        sandbox.parse(files.encrypted_ooxml(), "geheim.xlsx")
