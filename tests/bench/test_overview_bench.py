"""Smoke test of bench.overview: a tiny log is loaded, its figures timed and counted the same as in Python."""

from __future__ import annotations

from pathlib import Path

from assistant.audit import AuditLog, AuditSettings
from bench import overview, run_all


def test_the_overview_bench_times_every_figure_on_a_small_log(tmp_path: Path) -> None:
    with AuditLog.open(AuditSettings(durable=False, checkpoint_every=1000), tmp_path) as log:
        measured = overview.measure(log, 400, repeats=1)
    assert set(measured["queries_s"]) == {"turn_days", "feedback_days", "gaps", "document_counts",
                                          "redaction_days", "reading_days"}
    assert measured["records"] == 400 and measured["python_baseline_s"] > 0
    assert measured["same_figures"]  # SQL and Python count the same
    row = run_all.summarise({"overview": {"results": {"sqlite": measured}, "target_s": 1.0}})[0]
    assert row[0] == "overview" and row[-1] is True
