"""Collections through the command line: a document in `hr` answers only users whose groups read `hr`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baken.cli.main import main

HR = ("# Verzuimprotocol personeelszaken\n\nBij ziekte meldt de medewerker zich voor 9.00 uur bij de"
      " leidinggevende. Het re-integratiedossier bewaart personeelszaken twee jaar na herstel.\n")
OPEN = "# Parkeren\n\nEen parkeervergunning voor bewoners kost veertig euro per jaar.\n"
QUESTION = "Hoe lang bewaart personeelszaken het re-integratiedossier?"


@pytest.fixture
def env(tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("BAKEN_DATA_DIR", str(data))
    monkeypatch.setenv("BAKEN_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("BAKEN_ANSWER__MODE", "extractive")  # the evidence is the answer: no generation needed
    monkeypatch.setenv("TEST_PASSWORD", "een-lang-wachtwoord-123")
    return data


def run_json(capsys, *args: str):
    capsys.readouterr()
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_a_restricted_document_answers_only_its_readers(env: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "verzuim.md").write_text(HR, encoding="utf-8")
    (tmp_path / "parkeren.md").write_text(OPEN, encoding="utf-8")
    assert main(["collections", "add", "hr", "--title", "Personeelszaken"]) == 0
    assert main(["collections", "grant", "hr", "--group", "team-hr"]) == 0
    assert main(["ingest", "--quiet", "--collection", "hr", str(tmp_path / "verzuim.md")]) == 0
    assert main(["ingest", "--quiet", str(tmp_path / "parkeren.md")]) == 0
    listed = run_json(capsys, "collections", "list", "--json")
    assert [(c["name"], c["groups"], c["documents"]) for c in listed] == [("algemeen", [], 1),
                                                                          ("hr", ["team-hr"], 1)]
    assert main(["users", "add", "anna", "--role", "medewerker", "--groups", "team-hr",
                 "--password-env", "TEST_PASSWORD"]) == 0
    assert main(["users", "add", "bert", "--role", "medewerker", "--password-env", "TEST_PASSWORD"]) == 0

    outside = run_json(capsys, "ask", "--json", "--user", "bert", QUESTION)
    shown = json.dumps(outside, ensure_ascii=False)
    assert "re-integratiedossier bewaart" not in shown and "Verzuimprotocol" not in shown
    assert all(s["collection"] == "algemeen" for s in outside["sources"])

    inside = run_json(capsys, "ask", "--json", "--user", "anna", QUESTION)
    assert any(s["collection"] == "hr" and s["title"] == "Verzuimprotocol personeelszaken" for s in inside["sources"])
    assert "twee jaar" in json.dumps(inside["evidence"], ensure_ascii=False)

    hr_doc = next(d for d in run_json(capsys, "documents", "list", "--json") if d["collection"] == "hr")
    assert main(["documents", "move", hr_doc["id"][:12], "--collection", "algemeen"]) == 0
    assert [d["collection"] for d in run_json(capsys, "documents", "list", "--json", "--collection", "hr")] == []


def test_unknown_collections_and_users_are_one_line_errors(env: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "a.md").write_text(OPEN, encoding="utf-8")
    assert main(["ingest", "--quiet", "--collection", "geheim", str(tmp_path / "a.md")]) != 0
    assert "geen collectie 'geheim'" in capsys.readouterr().err
    assert main(["collections", "grant", "geheim", "--group", "x"]) != 0
    assert main(["collections", "add", "Niet Goed"]) != 0
    assert "ongeldige collectienaam" in capsys.readouterr().err
    assert main(["ask", "--user", "niemand", "vraag"]) != 0
    assert "geen actief account 'niemand'" in capsys.readouterr().err
    assert main(["users", "add", "controle", "--role", "auditor", "--password-env", "TEST_PASSWORD"]) == 0
    assert main(["ask", "--user", "controle", "vraag"]) != 0
    assert "mag geen vragen stellen" in capsys.readouterr().err
