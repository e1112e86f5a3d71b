"""Prometheus metrics of one Baken process (the only module that imports prometheus_client).

The web layer builds one `Metrics` per process and calls it; `/metrics` serves `render()`. With several
processes, Prometheus scrapes each one (one process per container), so no multiprocess mode is needed.
Labels are few and fixed (outcome, stage, route template, status): never a user, a question or a document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from assistant.seams import Journal
    from assistant.values import Actor, TurnResult

logger = logging.getLogger(__name__)
SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300)
RATES = (1, 2, 5, 10, 20, 40, 80, 160, 320)
STAGES = ("redact", "retrieve", "redact_sources", "prompt", "record_question", "generate")


class Metrics:
    """Counters, histograms and gauges for turns, HTTP requests, the model queue and ingestion."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.turns = Counter("baken_turns", "Conversation turns by outcome (answered, no_source, error).",
                             ["outcome"], registry=r)
        self.turn_seconds = Histogram("baken_turn_seconds", "Wall time of a whole turn.", ["outcome"],
                                      buckets=SECONDS, registry=r)
        self.first_token_seconds = Histogram("baken_first_token_seconds",
                                             "Time from the question to the model's first token.",
                                             buckets=SECONDS, registry=r)
        self.stage_seconds = Histogram("baken_turn_stage_seconds", "Time spent in each stage of a turn.",
                                       ["stage"], buckets=SECONDS, registry=r)
        self.tokens_per_second = Histogram("baken_generation_tokens_per_second",
                                           "Generation speed after the first token, per answer.",
                                           buckets=RATES, registry=r)
        self.tokens = Counter("baken_tokens", "Tokens given to (prompt) and produced by (completion) the model.",
                              ["kind"], registry=r)
        self.requests = Counter("baken_http_requests", "HTTP requests by method, route template and status.",
                                ["method", "route", "status"], registry=r)
        self.request_seconds = Histogram("baken_http_request_seconds", "HTTP request latency.",
                                         ["method", "route"], buckets=SECONDS, registry=r)
        self.ingested = Counter("baken_ingested_documents", "Documents ingested by result "
                                "(new, replaced, unchanged, failed).", ["result"], registry=r)
        self.ingested_chunks = Counter("baken_ingested_chunks", "Chunks written to the index.", registry=r)
        self.ingest_seconds = Histogram("baken_ingest_seconds", "Time to ingest one document.",
                                        buckets=SECONDS, registry=r)
        self.queue_depth = Gauge("baken_model_queue_depth", "Turns waiting for the model.", registry=r)

    def observe_turn(self, result: TurnResult) -> None:
        """Record a finished or failed turn."""
        timings: dict[str, float] = dict(result.timings_ms)
        outcome = str(result.outcome)
        self.turns.labels(outcome).inc()
        if "total" in timings:
            self.turn_seconds.labels(outcome).observe(timings["total"] / 1000)
        for stage in STAGES:
            if stage in timings:
                self.stage_seconds.labels(stage).observe(timings[stage] / 1000)
        prompt, completion = int(result.prompt_tokens), int(result.completion_tokens)
        self.tokens.labels("prompt").inc(prompt)
        self.tokens.labels("completion").inc(completion)
        if "first_token" in timings:
            self.first_token_seconds.observe(timings["first_token"] / 1000)
            decode_s = (timings.get("total", 0.0) - timings["first_token"]) / 1000
            if completion > 1 and decode_s > 0:
                self.tokens_per_second.observe((completion - 1) / decode_s)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one HTTP request; ``route`` is the route template (``/documents/{id}``), never the raw path."""
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    def observe_ingestion(self, result: str, chunks: int = 0, seconds: float | None = None) -> None:
        """Record one ingested document: its result (new, replaced, unchanged, failed), chunks and duration."""
        self.ingested.labels(result).inc()
        self.ingested_chunks.inc(chunks)
        if seconds is not None:
            self.ingest_seconds.observe(seconds)

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Read the model queue depth at scrape time (e.g. ``lambda: llm.waiting``)."""
        self.queue_depth.set_function(lambda: float(depth()))

    def watch_ingestion(self, jobs: Callable[[], Iterable[Any]]) -> None:
        """Report indexing jobs at scrape time: jobs by status, and chunks done/total of the running ones."""
        self.registry.register(_IngestionCollector(jobs))

    def render(self) -> tuple[bytes, str]:
        """The text exposition format and its content type, for GET /metrics."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST



class MeteredJournal:
    """A Journal that counts every turn (answered, no source, or failed) and hands it on to the real one."""

    def __init__(self, inner: Journal, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def record_question(self, result: TurnResult, actor: Actor) -> None:
        """Hand the question on unobserved: its turn is counted once, when `record_turn` sees it end."""
        self._inner.record_question(result, actor)

    def record_turn(self, result: TurnResult, actor: Actor) -> None:
        """Observe the turn, then record it; a metrics failure never stops a turn."""
        try:
            self._metrics.observe_turn(result)
        except Exception:  # metrics are best effort; the audit record is not
            logger.exception("cannot observe turn metrics")
        self._inner.record_turn(result, actor)

class _IngestionCollector:
    """Reads indexing jobs (objects with ``status``, ``done``, ``total``) when Prometheus scrapes."""

    def __init__(self, jobs: Callable[[], Iterable[Any]]) -> None:
        self._jobs = jobs

    def collect(self) -> Iterator[Metric]:
        jobs = list(self._jobs())
        by_status = GaugeMetricFamily("baken_ingestion_jobs", "Indexing jobs by status.", labels=["status"])
        for status in ("queued", "indexing", "done", "failed"):
            by_status.add_metric([status], sum(1 for j in jobs if j.status == status))
        running = [j for j in jobs if j.status == "indexing"]
        yield by_status
        yield GaugeMetricFamily("baken_ingestion_chunks_done", "Chunks embedded so far by running jobs.",
                                value=sum(int(j.done) for j in running))
        yield GaugeMetricFamily("baken_ingestion_chunks_total", "Chunks to embed in running jobs.",
                                value=sum(int(j.total) for j in running))

    def describe(self) -> list[Metric]:
        return []
