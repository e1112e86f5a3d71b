"""Rows of a sheet (XLSX, ODS, CSV) as text a reader understands one row at a time: the header row's names
before each value ("Kolom: waarde; …"), empty rows skipped, rows grouped in sections headed by the sheet's
name and the row numbers, so that a citation says where in the workbook the text is."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from itertools import zip_longest

from core.errors import DocumentError
from ingestion.document import Section
from ingestion.formats.limits import FormatLimits

SECTION_CHARS = 700  # about one chunk (200 word pieces): a section's row numbers stay exact in its chunks
MAX_HEADER_CELL = 80  # a longer cell is text, not a column name


def sheet_sections(sheet: str, rows: Iterable[Sequence[object]], limits: FormatLimits) -> list[Section]:
    """Sections of one sheet's rows; stops after ``max_empty_rows`` empty rows, refuses past ``max_sheet_rows``."""
    grouper = _Grouper(sheet)
    header: list[str] | None = None
    empty = filled = 0
    for number, row in enumerate(rows, start=1):
        cells = [cell_text(value) for value in row[:limits.max_columns]]
        if not any(cells):
            empty += 1
            if empty >= limits.max_empty_rows:
                break
            continue
        empty = 0
        filled += 1
        if filled > limits.max_sheet_rows:
            raise DocumentError(f"blad {sheet!r} heeft meer dan {limits.max_sheet_rows} gevulde rijen"
                                " (BAKEN_INGESTION__MAX_SHEET_ROWS)")
        present = [c for c in cells if c]
        # The header is the first row of two or more short names, or a later one with more names (a title
        # row of a few short cells often comes first).
        if len(present) >= 2 and len(present) > _filled(header) and all(_header_like(c) for c in present):
            header = cells
            grouper.add(number, "Kolommen: " + "; ".join(present))
        elif header is None or len(present) == 1:
            grouper.add(number, " | ".join(present))
        else:
            grouper.add(number, "; ".join(f"{name.rstrip(':')}: {value}" if name else value
                                          for name, value in zip_longest(header, cells, fillvalue="") if value))
    return grouper.finish()


def cell_text(value: object) -> str:
    """A cell's value as text: whole numbers without ".0", dates without a midnight time."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return " ".join(str(value).split())


def _filled(row: list[str] | None) -> int:
    return sum(1 for cell in row if cell) if row else 0


def _header_like(cell: str) -> bool:
    return len(cell) <= MAX_HEADER_CELL and not cell.replace(",", "").replace(".", "").lstrip("-€ ").isdigit()


class _Grouper:
    """Rows collected into sections of about ``SECTION_CHARS``, each headed (sheet, "rij a–b")."""

    def __init__(self, sheet: str) -> None:
        self.sheet = sheet
        self.sections: list[Section] = []
        self._lines: list[str] = []
        self._first = self._last = 0
        self._size = 0

    def add(self, number: int, line: str) -> None:
        if self._lines and self._size + len(line) > SECTION_CHARS:
            self._flush()
        if not self._lines:
            self._first = number
        self._lines.append(line)
        self._last, self._size = number, self._size + len(line)

    def _flush(self) -> None:
        rows = f"rij {self._first}" if self._first == self._last else f"rijen {self._first}–{self._last}"
        self.sections.append(Section(text="\n\n".join(self._lines), heading=(self.sheet, rows)))
        self._lines, self._size = [], 0

    def finish(self) -> list[Section]:
        """All sections, the last one included."""
        if self._lines:
            self._flush()
        return self.sections
