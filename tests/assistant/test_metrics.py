"""Prometheus metrics: what a turn, a request and ingestion add to the exposition."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.llm import GenerationParams
from assistant.metrics import MeteredJournal, Metrics
from assistant.turn import TurnResult


def turn(outcome: str = "answered", **timings: float) -> TurnResult:
    return TurnResult(event_id="e", conversation_id="c", question="Mijn BSN is 111222333", redacted_question="q",
                      answer="geheim antwoord", redacted_answer="a", sources=[], outcome=outcome, language="nl",
                      model="m", model_sha256=None, params=GenerationParams(), prompt_tokens=100,
                      completion_tokens=41, timings_ms=dict(timings))


def sample(text: str, name: str) -> float:
    """The value of the one exposition line that starts with ``name``."""
    lines = [line for line in text.splitlines() if line.startswith((name + " ", name + "{"))]
    assert len(lines) == 1, lines
    return float(lines[0].rsplit(" ", 1)[1])


def test_a_turn_counts_its_outcome_latency_tokens_and_speed() -> None:
    metrics = Metrics()
    metrics.observe_turn(turn(total=3000, first_token=1000, retrieve=50, generate=2500))
    metrics.observe_turn(turn("error", total=200))
    body, content_type = metrics.render()
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert sample(text, 'baken_turns_total{outcome="answered"}') == 1
    assert sample(text, 'baken_turns_total{outcome="error"}') == 1
    assert sample(text, 'baken_tokens_total{kind="completion"}') == 82
    assert sample(text, "baken_generation_tokens_per_second_sum") == 20.0  # 40 tokens in 2 s
    assert sample(text, 'baken_turn_stage_seconds_sum{stage="retrieve"}') == 0.05
    assert "111222333" not in text and "geheim" not in text


def test_requests_queue_depth_and_ingestion_progress_are_exposed() -> None:
    @dataclass
    class Job:
        status: str
        done: int = 0
        total: int = 0

    jobs = [Job("indexing", 30, 120), Job("queued"), Job("done", 5, 5)]
    waiting = [3]
    metrics = Metrics()
    metrics.observe_request("GET", "/documents/{doc_id}", 200, 0.02)
    metrics.observe_ingestion("new", chunks=12, seconds=4.0)
    metrics.watch_queue(lambda: waiting[0])
    metrics.watch_ingestion(lambda: jobs)
    text = metrics.render()[0].decode()
    assert sample(text, 'baken_http_requests_total{method="GET",route="/documents/{doc_id}",status="200"}') == 1
    assert sample(text, "baken_model_queue_depth") == 3
    assert sample(text, 'baken_ingestion_jobs{status="indexing"}') == 1
    assert (sample(text, "baken_ingestion_chunks_done"), sample(text, "baken_ingestion_chunks_total")) == (30, 120)
    assert sample(text, 'baken_ingested_documents_total{result="new"}') == 1
    waiting[0] = 0
    assert sample(metrics.render()[0].decode(), "baken_model_queue_depth") == 0


def test_two_metrics_objects_do_not_share_state() -> None:
    first, second = Metrics(), Metrics()
    first.observe_ingestion("failed")
    assert 'result="failed"' not in second.render()[0].decode()


def test_the_metered_journal_counts_failed_turns_and_still_records_them() -> None:
    recorded = []

    class Journal:
        def record_turn(self, result: TurnResult, actor: object) -> None:
            recorded.append(result.outcome)

    metrics = Metrics()
    MeteredJournal(Journal(), metrics).record_turn(turn("error", total=10), actor=None)
    assert recorded == ["error"]
    assert sample(metrics.render()[0].decode(), 'baken_turns_total{outcome="error"}') == 1


def test_the_metered_journal_passes_questions_on_without_counting_a_turn() -> None:
    recorded = []

    class Journal:
        def record_question(self, result: TurnResult, actor: object) -> None:
            recorded.append(("question", result.outcome))

        def record_turn(self, result: TurnResult, actor: object) -> None:
            recorded.append(("turn", result.outcome))

    metrics, result = Metrics(), turn("answered", total=10)
    journal = MeteredJournal(Journal(), metrics)
    journal.record_question(result, actor=None)
    journal.record_turn(result, actor=None)
    assert recorded == [("question", "answered"), ("turn", "answered")]
    assert sample(metrics.render()[0].decode(), 'baken_turns_total{outcome="answered"}') == 1
