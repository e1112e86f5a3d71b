"""Scanned PDFs: pages that are only an image are read with Tesseract's Dutch data, page numbers kept; a
scan over the page limit is refused before any page is read."""

from __future__ import annotations

import shutil
import time

import pytest

from core.errors import DocumentError
from ingestion.formats.limits import FormatLimits
from ingestion.parsers import ParseLimits, parse
from ingestion.sandbox import SandboxedParser
from tests.formats import files

pytestmark = pytest.mark.skipif(not (shutil.which("tesseract") and shutil.which("pdftoppm")),
                                reason="OCR not installed (scripts/bootstrap installs tesseract-ocr-nld)")
PAGES = [["Gemeente Voorbeeld", "Besluit afvalstoffenheffing 2026"],
         ["De heffing bedraagt 312 euro per jaar.", "Kwijtschelding is mogelijk."]]


def test_a_scanned_pdf_is_read_with_ocr_and_keeps_its_pages(sandbox: SandboxedParser) -> None:
    started = time.monotonic()
    document = sandbox.parse(files.scanned_pdf(PAGES), "scan.pdf")
    seconds = time.monotonic() - started
    assert [s.page for s in document.sections] == [1, 2]
    assert "Besluit afvalstoffenheffing 2026" in document.sections[0].text
    assert "De heffing bedraagt 312 euro per jaar." in document.sections[1].text
    assert document.title == "Gemeente Voorbeeld"
    assert seconds < 30, seconds


def test_a_scan_over_the_page_limit_is_refused_before_reading() -> None:
    limits = ParseLimits(formats=FormatLimits(ocr_max_pages=2))
    started = time.monotonic()
    with pytest.raises(DocumentError, match="3 pagina's zonder tekstlaag; OCR leest er ten hoogste 2"):
        parse(files.scanned_pdf([["een"], ["twee"], ["drie"]]), "lang.pdf", limits)
    assert time.monotonic() - started < 5


def test_a_scan_of_300_pages_is_refused_at_once_through_the_sandbox(sandbox: SandboxedParser) -> None:
    data = files.long_scan(300)
    started = time.monotonic()
    with pytest.raises(DocumentError, match="300 pagina's zonder tekstlaag; OCR leest er ten hoogste 20"):
        sandbox.parse(data, "archief.pdf")
    assert time.monotonic() - started < 10


def test_without_ocr_a_scan_is_refused_with_the_setting() -> None:
    with pytest.raises(DocumentError, match="OCR staat uit"):
        parse(files.scanned_pdf([["een"]]), "scan.pdf", ParseLimits(formats=FormatLimits(ocr=False)))
