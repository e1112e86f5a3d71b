"""A real `baken serve` and `baken ingest` (subprocesses, real embedder and guardrails, a fake model server):
a short bounded load gives no errors but the documented 429s and every answered turn is in the audit chain;
everything written under BAKEN_DATA_DIR is 0700 (directories) or 0600 (files)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bench.load import run
from tests.paths import MODELS_DIR, REPO

pytestmark = pytest.mark.slow


def _loose(data: Path) -> list[str]:
    """Everything under ``data`` (itself included) that another user could read, write or enter."""
    return [f"{oct(stat.S_IMODE(p.stat().st_mode))} {p.relative_to(data)}" for p in [data, *data.rglob("*")]
            if not p.is_symlink() and p.stat().st_mode & 0o077]


def test_a_short_load_has_no_errors_but_the_documented_429s_and_every_answer_is_audited(tmp_path: Path) -> None:
    out = run(users=5, seconds=14, workers=2, think_s=0.5, data_dir=tmp_path, ramp_s=2, spray_pause_s=0.02)
    assert out["errors"] == 0, out["error_kinds"]
    assert out["turns_done"] >= 5 and out["model_completions"] > 0
    assert out["status_429_ask"] >= 1  # the greedy user's fourth question at once
    assert out["status_429_login"] >= 1  # the sprayer past its address's budget
    assert out["status_429"] == out["status_429_ask"] + out["status_429_login"]
    audit = out["audit"]
    assert audit["answered_not_logged"] == 0 and audit["audit_verify_ok"], audit
    assert audit["turns_finished"] == audit["turns_in_history"] >= out["turns_done"]
    assert set(out["data_dir_modes"]) == {"d 700", "f 600"}, out["data_dir_modes"]


def test_baken_ingest_writes_a_private_data_directory_and_closes_an_open_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)  # as an older version (or `mkdir`) left it
    document = tmp_path / "parkeren.md"
    document.write_text("# Parkeren\n\nEen parkeervergunning kost veertig euro per jaar.\n", encoding="utf-8")
    env = {**os.environ, "BAKEN_DATA_DIR": str(data), "BAKEN_MODELS_DIR": str(MODELS_DIR)}
    for command in (["ingest", "--quiet", str(document)], ["audit", "checkpoint"]):
        done = subprocess.run([str(Path(sys.executable).parent / "baken"), *command], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stderr
    assert (data / "index").is_dir() and any((data / "documents").iterdir())
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert _loose(data) == []
