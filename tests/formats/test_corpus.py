"""`baken ingest` of the shared corpus's files of each kind (the XLSX among them) with no failure, and a
sheet's rows cited by sheet and row. The whole corpus is measured by `python -m bench.ingest --formats`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from baken.cli.main import main
from tests.paths import CORPUS

pytestmark = pytest.mark.slow  # the real embedder
KINDS = [CORPUS / "documenten" / "AI-verordening_Impact_Analyse.xlsx",
         CORPUS / "documenten" / "Invultemplate-AIIA2.0.docx",
         CORPUS / "documenten" / "GenAI_compliance_FAQ.pdf",
         CORPUS / "brieven" / "hilversum-collegebrief-digitale-afhankelijkheid.txt",
         CORPUS / "algoritmekader" / "onderwerpen_duurzaamheid.md"]


def test_one_file_of_each_kind_of_the_shared_corpus_is_indexed(tmp_path: Path, models_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in KINDS:
        shutil.copy(path, folder)
    monkeypatch.setenv("BAKEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BAKEN_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("BAKEN_ANSWER__MODE", "extractive")  # the sources are the point here, not the model
    assert main(["ingest", "--quiet", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"{len(KINDS)} documents indexed ({len(KINDS)} new, 0 replaced), 0 unchanged, 0 failed" in out

    assert main(["ask", "--json", "Is er een interne registratielijst van algoritmes?"]) == 0
    sources = json.loads(capsys.readouterr().out)["sources"]
    sheet = [s for s in sources if s["heading"].startswith("A. Inventarisatie > rij")]
    assert sheet, sources
