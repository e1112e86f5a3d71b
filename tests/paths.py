"""Paths the tests share: the repository, the shared corpus and the provisioned models."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BAKEN_SHARED_DIR", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"
MODELS_DIR = Path(os.environ.get("BAKEN_MODELS_DIR", REPO / "data" / "models"))

# A small, fixed slice of the shared corpus: the logging page the acceptance question needs, a few neighbours,
# one PDF (for page numbers) and the DOCX.
SMALL_CORPUS = [
    CORPUS / "algoritmekader" / "voldoen-aan-wetten-en-regels_maatregelen_4-owk-04-logging.md",
    CORPUS / "algoritmekader" / "onderwerpen_privacy-en-gegevensbescherming.md",
    CORPUS / "algoritmekader" / "soorten-algoritmes-en-ai_generatieve-ai.md",
    CORPUS / "algoritmekader" / "onderwerpen_duurzaamheid.md",
    CORPUS / "documenten" / "GenAI_compliance_FAQ.pdf",
]
