"""Spreadsheets: XLSX with openpyxl (read-only, values only) and CSV with the standard library; one group of
sections per sheet (`ingestion.formats.rows`). ODS is read with the other ODF formats (`ingestion.formats.odf`)."""

from __future__ import annotations

import csv
import io

from core.errors import DocumentError
from ingestion.document import ParsedDocument, Section
from ingestion.formats.encoding import decode
from ingestion.formats.limits import FormatLimits
from ingestion.formats.rows import sheet_sections

CSV_DELIMITERS = ",;\t|"


def parse_xlsx(data: bytes, name: str, title: str, limits: FormatLimits) -> ParsedDocument:
    """Every worksheet's rows (chart sheets have none); formulas give their last computed value."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 (openpyxl raises many types for broken packages)
        raise DocumentError(f"beschadigd XLSX-bestand ({type(exc).__name__})") from None
    try:
        title = workbook.properties.title or title
        sections: list[Section] = []
        for sheet in workbook.worksheets:
            width = min(sheet.max_column or limits.max_columns, limits.max_columns)
            rows = sheet.iter_rows(min_row=1, max_col=width, values_only=True)
            sections += sheet_sections(sheet.title, rows, limits)
    finally:
        workbook.close()
    return ParsedDocument(title=title.strip(), kind="xlsx", sections=sections)


def parse_csv(data: bytes, name: str, title: str, limits: FormatLimits) -> ParsedDocument:
    """A CSV file in any common encoding, its delimiter sniffed (comma, semicolon as Dutch Excel saves, tab)."""
    text = decode(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], delimiters=CSV_DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    try:
        rows = csv.reader(io.StringIO(text, newline=""), dialect)
        sections = sheet_sections(title, rows, limits)
    except csv.Error as exc:
        raise DocumentError(f"beschadigd CSV-bestand ({exc})") from None
    return ParsedDocument(title=title, kind="csv", sections=sections)


def preload() -> None:
    """Import openpyxl now (the sandbox worker does so before its memory limit is set)."""
    import openpyxl  # noqa: F401
