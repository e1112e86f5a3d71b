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

    def run(*argv: str) -> tuple[int, str]:
        monkeypatch.setattr("sys.stdin", SimpleNamespace(buffer=io.BytesIO(TEXT.encode())))
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
