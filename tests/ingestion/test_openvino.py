"""The OpenVINO backend: the provisioned export, its manifest, its vectors beside torch's, and its export step
run with telemetry declined."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.errors import ModelError
from models.provision import verify_manifest, write_manifest

TEXTS = ["Bij een voltijds dienstverband werk je maximaal 3 dagen per week thuis.",
         "Klachten worden binnen zes weken afgehandeld.", "kort"]


def test_a_manifest_catches_a_changed_file_and_another_source_model(tmp_path: Path) -> None:
    (tmp_path / "model.xml").write_text("<net/>", encoding="utf-8")
    write_manifest(tmp_path, "a" * 64, {"dimension": 8})
    assert verify_manifest(tmp_path, "a" * 64)["dimension"] == 8
    with pytest.raises(ModelError, match="made from another model"):
        verify_manifest(tmp_path, "b" * 64)
    (tmp_path / "model.xml").write_text("<net changed/>", encoding="utf-8")
    with pytest.raises(ModelError, match="model.xml .* missing or damaged"):
        verify_manifest(tmp_path, "a" * 64)
    with pytest.raises(ModelError, match="missing or incomplete"):
        verify_manifest(tmp_path / "elders", "a" * 64)


def test_the_export_runs_with_openvinos_telemetry_declined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`prepare` gives its child a home whose consent file says no; the converter and NNCF then send nothing."""
    from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult, OptInChecker

    import ingestion.openvino_export as export

    homes: list[str] = []
    own_home = os.environ.get("HOME")

    def child(command: list[str], env: dict[str, str], **kwargs: object) -> object:
        homes.append(env["HOME"])
        monkeypatch.setenv("HOME", env["HOME"])
        assert OptInChecker().check(enable_opt_in_dialog=False) == ConsentCheckResult.DECLINED
        return type("Done", (), {"returncode": 0, "stderr": ""})()

    monkeypatch.delenv("CI", raising=False)  # NNCF declines in CI anyway; the file must do it everywhere
    monkeypatch.setattr(export.subprocess, "run", child)
    export.prepare(tmp_path / "src", tmp_path / "dst", source_sha256="0" * 64, calibration=["Gemeente"])
    assert homes and homes[0] != own_home


@pytest.mark.slow
def test_the_provisioned_export_matches_the_model_and_int8_stays_close_to_torch(models_dir: Path, embedder) -> None:
    from baken.settings import Settings
    from baken.wiring import build_embedder

    export = models_dir / "all-minilm-l6-v2" / "openvino"
    manifest = json.loads((export / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["dimension"] == 384 and {"model.xml", "model_int8.xml"} <= set(manifest["files"])
    assert (embedder.name, getattr(embedder, "variant", None)) == ("all-minilm-l6-v2", "int8")  # the default
    torch = build_embedder(Settings(models_dir=models_dir, embeddings={"backend": "torch"}))
    for a, b in zip(torch.embed_passages(TEXTS), embedder.embed_passages(TEXTS)):
        assert sum(x * y for x, y in zip(a, b)) > 0.97
    assert [torch.count_tokens(t) for t in TEXTS] == [embedder.count_tokens(t) for t in TEXTS]
    from baken.cli.chat import demo_corpus

    long = (demo_corpus() / "thuiswerkbeleid.md").read_text(encoding="utf-8")  # cut at the window, as torch does
    assert sum(x * y for x, y in zip(torch.embed_query(long), embedder.embed_query(long))) > 0.97
