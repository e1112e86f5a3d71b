"""The "has a source" calibration of bench/answers.py: the evidence's veto holds at every threshold."""

from __future__ import annotations

from bench.answers import calibrate


def _row(kind: str, cosine: float, coverage: float, evidence: float, topical: float = 1.0) -> dict:
    return {"kind": kind, "signals": {"cosine": cosine, "coverage": coverage, "evidence": evidence,
                                      "topical": topical}}


def test_a_question_the_evidence_cannot_answer_is_refused_at_every_threshold() -> None:
    rows = [_row("answerable", 0.8, 0.9, 0.9), _row("answerable", 0.65, 0.5, 0.5),
            _row("unanswerable", 0.65, 0.6, 0.5, topical=0.0), _row("unanswerable", 0.5, 0.2, 0.1)]
    result = calibrate(rows, (0.71, 0.40), 0.33)
    assert result["in_force"]["refused"] == 1.0 and result["in_force"]["kept"] == 1.0
    assert result["best"]["errors"] == 0
    assert all(t["refused"] == 1.0 for t in result["trade_off"][-1:])


def test_rows_recorded_before_the_veto_still_calibrate() -> None:
    rows = [{"kind": "answerable", "signals": {"cosine": 0.8, "coverage": 0.9, "evidence": 0.9}},
            {"kind": "unanswerable", "signals": {"cosine": 0.5, "coverage": 0.2, "evidence": 0.1}}]
    assert calibrate(rows, (0.71, 0.40), 0.33)["in_force"]["errors"] == 0
