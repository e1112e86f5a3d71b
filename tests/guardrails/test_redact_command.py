import argparse
import io
import json
from types import SimpleNamespace

import pytest

import baken.cli.redact as command
from guardrails import PiiSettings

TEXT = "Graag een brief aan mevrouw Jansen, BSN 111222333.\n"


@pytest.fixture
def run(redactor, pii_models_dir, monkeypatch, capsys):
    monkeypatch.setattr(command, "Redactor", lambda settings, directory: redactor)

    def run(*argv: str, text: str = TEXT) -> tuple[int, str]:
        monkeypatch.setattr("sys.stdin", SimpleNamespace(buffer=io.BytesIO(text.encode())))
        parser = argparse.ArgumentParser()
        command.register(parser.add_subparsers())
        args = parser.parse_args(["redact", *argv])
        status = args.handler(args, SimpleNamespace(pii=PiiSettings(), model_dir=pii_models_dir))
        return status, capsys.readouterr().out

    return run


def test_redact_prints_the_redacted_text(run):
    status, out = run()
    assert status == 0
    assert out == "Graag een brief aan [PERSOON_1], BSN [BSN_1].\n"


def test_redact_json_gives_findings_with_offsets_into_the_input(run):
    _, out = run("--json")
    payload = json.loads(out)
    assert payload["text"] == "Graag een brief aan [PERSOON_1], BSN [BSN_1].\n"
    bsn = next(f for f in payload["findings"] if f["type"] == "BSN")
    assert TEXT[bsn["start"]:bsn["end"]] == "111222333"
    assert set(bsn) == {"type", "start", "end", "placeholder", "score", "recognizer"}
    assert bsn["recognizer"] == "BsnRecognizer"


@pytest.mark.parametrize("text, expected", [
    ("ik ben jan de vries en woon op kerkstraat 12 in hilversum.\n",
     "ik ben [PERSOON_1] en woon op [ADRES_1] in hilversum.\n"),
    ("IBAN: nl91 abna 0417 1643 00\n", "IBAN: [IBAN_1]\n"),
    ("221B Baker Street, London\n", "[ADRES_1], London\n"),
    ("IK BEN JAN DE VRIES, KERKSTRAAT 12, 1234 AB HILVERSUM\n", "IK BEN [PERSOON_1], [ADRES_1], [POSTCODE_1] HILVERSUM\n"),
])
def test_redact_finds_what_people_type_in_any_case(run, text, expected):
    assert run(text=text) == (0, expected)


def test_redact_document_setting_keeps_policy_words(run):
    text = "de bakker en de visser vallen onder de regeling voor zelfstandigen.\n"
    assert run("--document", text=text) == (0, text)
