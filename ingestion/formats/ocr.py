"""Scanned PDF pages read with OCR: each page rendered by poppler's `pdftoppm` and read by Tesseract with
Dutch language data (`tesseract-ocr-nld`), both as child processes of the sandbox worker, so that they
inherit its limits (address space, no files written: page images and text go through pipes).

A scan with more pages than ``ocr_max_pages`` is refused before any page is read; each program call has
a time limit, and the sandbox's wall-clock limit bounds the whole file. Installed by scripts/bootstrap (Debian
packages tesseract-ocr, tesseract-ocr-nld, poppler-utils) and in the Containerfile.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from core.errors import DocumentError
from ingestion.formats.limits import FormatLimits

PAGE_SECONDS = 60  # one program call on one page
INSTALL_HINT = "installeer tesseract-ocr, tesseract-ocr-nld en poppler-utils (scripts/bootstrap doet dat)"


def read_pages(data: bytes, pages: list[int], limits: FormatLimits) -> dict[int, str]:
    """The text OCR finds on each of ``pages`` (1-based) of the PDF in ``data``."""
    if len(pages) > limits.ocr_max_pages:
        raise DocumentError(f"gescande PDF met {len(pages)} pagina's zonder tekstlaag; OCR leest er ten hoogste"
                            f" {limits.ocr_max_pages} (BAKEN_INGESTION__OCR_MAX_PAGES)")
    programs = _programs()
    if programs is None:
        raise DocumentError(f"gescande PDF zonder tekstlaag en geen OCR op deze machine; {INSTALL_HINT}")
    pdftoppm, tesseract = programs
    missing = set(limits.ocr_languages.split("+")) - _languages(tesseract)
    if missing:
        raise DocumentError(f"OCR-taaldata ontbreekt ({', '.join(sorted(missing))}); {INSTALL_HINT}")
    return {page: _read_page(data, page, pdftoppm, tesseract, limits) for page in pages}


def _read_page(data: bytes, page: int, pdftoppm: str, tesseract: str, limits: FormatLimits) -> str:
    image = _run([pdftoppm, "-r", str(limits.ocr_dpi), "-gray", "-f", str(page), "-l", str(page), "-"], data)
    if not image:
        raise DocumentError(f"pagina {page} van de gescande PDF kon niet worden weergegeven")
    return _run([tesseract, "stdin", "stdout", "-l", limits.ocr_languages, "--psm", "3"], image).decode(
        "utf-8", "replace")


def _run(command: list[str], data: bytes) -> bytes:
    # One OpenMP thread: the worker shares the machine with the server, and Tesseract is no faster per page
    # with more on two cores.
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=PAGE_SECONDS, env=environment,
                              check=False)
    except subprocess.TimeoutExpired:
        raise DocumentError(f"OCR van één pagina duurde langer dan {PAGE_SECONDS} s") from None
    except OSError as exc:
        raise DocumentError(f"OCR kon niet starten ({type(exc).__name__})") from None
    if done.returncode != 0:
        raise DocumentError(f"OCR mislukte ({os.path.basename(command[0])}, status {done.returncode})")
    return done.stdout


@functools.cache
def _programs() -> tuple[str, str] | None:
    pdftoppm, tesseract = shutil.which("pdftoppm"), shutil.which("tesseract")
    return (pdftoppm, tesseract) if pdftoppm and tesseract else None


@functools.cache
def _languages(tesseract: str) -> frozenset[str]:
    done = subprocess.run([tesseract, "--list-langs"], capture_output=True, timeout=PAGE_SECONDS, check=False)
    return frozenset(line.strip() for line in done.stdout.decode("utf-8", "replace").splitlines()[1:])
