"""Provisioning-time export of a sentence-transformers model to OpenVINO: fp32 and NNCF-quantised int8.

Never at a request: `baken models provision` runs `prepare`, which exports in a child process
(``python -m ingestion.openvino_export``), so that torch's and NNCF's memory is given back, and with a home
directory whose OpenVINO consent file says no: OpenVINO's converter and NNCF send usage statistics unless
that file declines them. The export is written beside the model (``MODELS_DIR/<name>/openvino/``) under a
temporary name and renamed into place when complete; its manifest records the source model's sha256 and each
file's, which `models.provision.verify_manifest` checks before the embedder loads it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.errors import ModelError

logger = logging.getLogger(__name__)
EXPORT_DIR = "openvino"  # beside the model's own files: MODELS_DIR/<name>/openvino/
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                   "sentence_bert_config.json", "config.json")
CALIBRATION_TEXTS = 96  # chunks NNCF calibrates the int8 activations on (more: slower export, same hit@5)


def prepare(source: Path, target: Path, *, source_sha256: str, calibration: Sequence[str]) -> Path:
    """Export ``source`` (a sentence-transformers directory) to ``target`` in a child process; returns ``target``."""
    with tempfile.TemporaryDirectory(prefix="baken-openvino-") as tmp:
        home = Path(tmp) / "home"
        (home / "intel").mkdir(parents=True)
        (home / "intel" / "openvino_telemetry").write_text("0\n", encoding="utf-8")  # "0": declined
        texts = Path(tmp) / "calibration.json"
        texts.write_text(json.dumps(list(calibration)[:CALIBRATION_TEXTS]), encoding="utf-8")
        command = [sys.executable, "-m", "ingestion.openvino_export", str(source), str(target),
                   "--source-sha256", source_sha256, "--calibration", str(texts)]
        done = subprocess.run(command, env={**os.environ, "HOME": str(home)}, capture_output=True, text=True,
                              check=False)
    if done.returncode != 0:
        raise ModelError(f"exporting {source.name} to OpenVINO failed: {done.stderr.strip()[-500:]}")
    return target


def export(source: Path, target: Path, *, source_sha256: str, calibration: Sequence[str]) -> dict[str, Any]:
    """Write ``model.xml`` (fp32), ``model_int8.xml`` (int8), the tokenizer and ``manifest.json`` to ``target``."""
    import nncf
    import openvino as ov

    from ingestion.embedder import pooled_graph
    from ingestion.wordpieces import WordPieces
    from models.provision import write_manifest

    module, example, dimension = pooled_graph(source)
    graph = ov.convert_model(module, example_input=example,
                             input=[(name, ov.PartialShape([-1, -1]), ov.Type.i64) for name in INPUTS])
    staging = target.parent / f".{target.name}-staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in TOKENIZER_FILES:
        if (source / name).exists():
            shutil.copy2(source / name, staging / name)
    ov.save_model(graph, str(staging / "model.xml"), compress_to_fp16=False)
    words = WordPieces(staging)
    samples = [words.batch([text]) for text in calibration if text.strip()] or [words.batch(["Gemeente"])]
    quantised = nncf.quantize(graph, nncf.Dataset(samples), model_type=nncf.ModelType.TRANSFORMER,
                              subset_size=len(samples))
    ov.save_model(quantised, str(staging / "model_int8.xml"), compress_to_fp16=False)
    manifest = write_manifest(staging, source_sha256, {"dimension": dimension, "openvino": ov.__version__,
                                                      "nncf": nncf.__version__, "calibration_texts": len(samples)})
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """The child process of `prepare`."""
    parser = argparse.ArgumentParser(prog="python -m ingestion.openvino_export")
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--source-sha256", required=True)
    parser.add_argument("--calibration", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    texts = json.loads(args.calibration.read_text(encoding="utf-8"))
    export(args.source, args.target, source_sha256=args.source_sha256, calibration=texts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
