"""`baken index reembed`: a run killed half-way leaves the old index serving; the rerun resumes and switches."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from baken.cli.chat import demo_corpus
from baken.settings import Settings
from baken.wiring import build_embedder, build_index, build_store
from core.errors import ConfigurationError

pytestmark = pytest.mark.slow
BAKEN = Path(sys.executable).parent / "baken"


def run(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BAKEN), *args], env=environment, capture_output=True, text=True, check=False,
                          timeout=600)


def test_a_killed_reembed_leaves_the_old_index_serving_and_the_rerun_switches(tmp_path: Path, models_dir: Path,
                                                                               embedder) -> None:
    data, copy = tmp_path / "data", tmp_path / "minilm-kopie"
    shutil.copytree(models_dir / "all-minilm-l6-v2" / "model", copy)  # another model, by path: another name
    environment = {**os.environ, "BAKEN_DATA_DIR": str(data), "BAKEN_MODELS_DIR": str(models_dir)}
    assert run(environment, "ingest", "--quiet", *map(str, sorted(demo_corpus().glob("*.md"))[:2])).returncode == 0
    old = Settings(data_dir=data, models_dir=models_dir)
    chunks = build_store(old).count()

    process = subprocess.Popen([str(BAKEN), "index", "reembed", "--model", str(copy), "--backend", "torch",
                                "--batch", "2"], env=environment, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stderr is not None
    seen = b""
    while b" 4/" not in seen and process.poll() is None:  # tqdm's "done/total": killed after two batches
        seen += os.read(process.stderr.fileno(), 4096)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert process.returncode == -signal.SIGKILL, seen.decode(errors="replace")[-500:]

    status = run(environment, "index", "status").stdout
    assert "all-minilm-l6-v2 (384 dimensies)" in status and "staging      baken_chunks.g1" in status
    assert build_index(old, embedder).search("thuiswerken", 2, min_score=-1.0)  # the old index still serves

    started = time.monotonic()
    done = run(environment, "index", "reembed", "--model", str(copy), "--backend", "torch", "--quiet")
    assert done.returncode == 0, done.stderr
    assert f"{chunks} chunks ingebed met minilm-kopie" in done.stdout and "eerdere, afgebroken run" in done.stdout
    assert "BAKEN_EMBEDDINGS__MODEL=" in done.stdout and time.monotonic() - started < 300
    status = run(environment, "index", "status").stdout
    assert "minilm-kopie (384 dimensies)" in status and "active       baken_chunks.g1" in status

    with pytest.raises(ConfigurationError, match="gebouwd met embedder minilm-kopie"):
        build_index(old, embedder).search("thuiswerken", 2)
    new = Settings(data_dir=data, models_dir=models_dir, embeddings={"model": str(copy), "backend": "torch"})
    assert build_index(new, build_embedder(new)).search("thuiswerken", 2, min_score=-1.0)
    again = run(environment, "index", "reembed", "--model", str(copy), "--backend", "torch")
    assert again.returncode == 0 and "niets om te doen" in again.stdout
