"""Smoke test of bench.sync: the re-sync measurement runs at a tiny size (fake embedder); no timing asserted."""

from __future__ import annotations

from pathlib import Path

from bench import sync


def test_the_resync_bench_runs_at_a_tiny_size(tmp_path: Path) -> None:
    out = sync.resync(5, tmp_path)
    assert out["files"] == 5 and out["resync_ms"]["n"] == 3 and out["first_sync_s"] >= 0


def test_the_failing_files_bench_runs_at_a_tiny_size(tmp_path: Path) -> None:
    out = sync.failing(2, tmp_path)
    assert out["files"] == 2 and out["remembered_ms"]["n"] == out["retried_ms"]["n"] == 3
