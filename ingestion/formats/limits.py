"""How far the formats of `ingestion.formats` may go on one file: rows, OCR pages, attachments."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class FormatLimits:
    """Bounds per file, so that a sheet of a million empty rows or an e-mail loop ends quickly."""

    max_sheet_rows: int = 100_000  # rows with content read per sheet; the rest is refused (see sheets.py)
    max_empty_rows: int = 1_000  # consecutive empty rows after which a sheet is taken to have ended
    max_columns: int = 200  # columns read per row
    ocr: bool = True  # scanned PDF pages through Tesseract when it is installed
    ocr_max_pages: int = 20  # a scan with more pages without text is refused (each page costs seconds)
    ocr_languages: str = "nld+eng"
    ocr_dpi: int = 200
    max_attachment_mb: int = 20  # an e-mail attachment larger than this is named, not read
    max_attachments: int = 50  # attachments read per e-mail, nested ones included
    max_mail_depth: int = 3  # e-mails inside e-mails inside e-mails…

    @property
    def max_attachment_bytes(self) -> int:
        """``max_attachment_mb`` in bytes."""
        return self.max_attachment_mb * MB
