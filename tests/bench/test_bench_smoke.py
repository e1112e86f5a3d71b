"""Smoke test of bench/: every benchmark imports and runs at a tiny size (fakes where a real model would be slow).
No timing is asserted: only that the figures come out, with the right shape."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench import chat, common, concurrency, ingest, memory, retrieval, run_all, scale_out
from tests.paths import CORPUS


@pytest.fixture
def fake_services(tmp_path: Path):
    """Settings and services on a fake embedder and a recording fake LLM, with one small document indexed."""
    from assistant.llm import FakeLLM
    from assistant.turn import NoRedaction
    from baken.wiring import build_services
    from ingestion.embedder import FakeEmbedder

    settings = common.bench_settings(tmp_path / "data", llm={"max_tokens": 16, "temperature": 0.0})
    llm = chat.RecordingLLM(FakeLLM(), reset=False)
    services = build_services(settings, embedder=FakeEmbedder(), llm=llm, redactor=NoRedaction())
    services.index.ingest_file(min((CORPUS / "algoritmekader").glob("onderwerpen_*.md")))
    yield settings, services, llm
    services.close()


def test_common_table_and_summary_have_the_expected_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert common.summary([1.0, 2.0, 3.0, 4.0])["median"] == 2.5
    assert common.percentile(list(range(101)), 0.95) == 95
    assert common.table(["a", "b"], [[1.5, True]]).splitlines()[2] == "| 1.50 | met |"
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    path = common.write_results("x", {"value": 1}, [[1]], ["v"])
    assert json.loads(path.read_text())["value"] == 1


def test_chat_turns_through_the_api_and_http_are_timed_and_the_prompt_recorded(fake_services) -> None:
    settings, services, _ = fake_services
    measured, result = chat.api_turn(services.assistant, chat.QUESTIONS[0])
    assert measured["total_ms"] >= measured["ttft_ms"] > 0 and result.outcome in ("answered", "no_source")
    chat.add_users(settings, ["smoke"])
    with chat.InProcessServer(settings, services) as server:
        got = chat.WebClient(server.url, "smoke").ask(chat.QUESTIONS[1])
    assert got["error"] is None and got["tokens"] > 0
    assert got["evidence_ms"] is None or got["evidence_ms"] <= got["total_ms"]  # the evidence comes first
    runs = {m: [{"ttft_ms": 10.0, "total_ms": 100.0, "tokens": 8}] for m in ("api", "raw", "http")}
    pairs = [{f"{m}_{k}": runs[m][0][k] for m in runs for k in ("ttft_ms", "total_ms", "tokens")}]
    out = chat.analyse(runs, pairs, {"redact": [1.0], "retrieve": [2.0], "prompt": [1.0]}, 1.0, 16, 1, 1)
    assert out["modes"]["api"]["total_ratio"]["median"] == 1.0 and chat.rows_of(out)


@pytest.mark.slow
def test_raw_completion_counts_tokens_on_the_real_model(llm) -> None:
    from assistant.llm import GenerationParams

    recording = chat.RecordingLLM(llm)
    got = chat.raw_completion(recording.llama, [{"role": "user", "content": "Hallo"}], GenerationParams(max_tokens=4))
    assert 0 < got["tokens"] <= 4 and got["total_ms"] >= got["ttft_ms"]


def test_concurrency_level_counts_tokens_and_audited_turns(fake_services) -> None:
    settings, services, _ = fake_services
    chat.add_users(settings, ["c0", "c1"])
    before = concurrency.audited_turns(services)
    with chat.InProcessServer(settings, services) as server:
        row = concurrency.level(server.url, [chat.WebClient(server.url, n) for n in ("c0", "c1")], 1)
    assert row["turns"] == 2 and not row["errors"] and row["tokens"] > 0
    assert concurrency.audited_turns(services) - before == 2


def test_ingest_baken_and_raw_sides_index_the_same_chunks(tmp_path: Path) -> None:
    import numpy as np

    from ingestion.embedder import FakeEmbedder

    embedder = FakeEmbedder()
    model = SimpleNamespace(encode=lambda texts, **_: np.asarray(embedder.embed_passages(texts), dtype=np.float32))
    files = ingest.corpus_files(2)
    chunks = ingest.chunks_of(files, embedder, common.bench_settings(tmp_path / "s"))
    baken = ingest.baken_ingest(files, embedder, tmp_path / "baken")
    raw = ingest.raw_ingest(chunks, model, 32, tmp_path / "raw")
    assert baken["chunks"] == raw["chunks"] == len(chunks) > 0


def test_ingest_remote_row_embeds_over_loopback_http(tmp_path: Path) -> None:
    from ingestion.embedder import FakeEmbedder

    encoder = ingest._remote(FakeEmbedder(), common.bench_settings(tmp_path / "s"))
    assert encoder.encode(["parkeren en afval", "markt"]).shape == (2, 256)


def test_retrieval_measures_recall_against_exact_search(tmp_path: Path) -> None:
    out = retrieval.run((400,), queries=5, workdir=tmp_path)
    size = out["sizes"]["400"]
    assert 0.0 <= size["recall_at_10"] <= 1.0 and size["numpy_exact_ms"]["n"] == 5
    assert retrieval.rows_of(out)


def test_memory_reads_peak_rss_of_a_process() -> None:
    assert memory.status_kb(os.getpid(), "VmHWM") > 0
    assert memory.baken()[0].endswith("baken") or memory.baken()[-1] == "baken.cli.main"


def test_scale_out_measures_sqlite_and_resume_without_postgres(tmp_path: Path) -> None:
    from guardrails import FakeRedactor

    out = scale_out.run(None, tmp_path, FakeRedactor(), requests=5, turns=2, documents=100, repeats=1)
    sqlite = out["sides"]["sqlite"]
    assert out["postgres"] is None and out["ready_documents"]["sqlite"] == 98
    assert sqlite["session_us"]["n"] == 5 and sqlite["set_partial"]["n"] == 2 * out["partials_long"]
    assert out["resume"]["history_messages"] == 20 and out["resume"]["placeholders"] > 0
    assert len(scale_out.rows_of(out)) > 5 and run_all.scale_out_rows(out)[-1][0] == "scale_out"


def test_run_all_summarises_whatever_results_exist() -> None:
    retrieval_out = {"sizes": {"100000": {"recall_at_10": 1.0, "chroma_store_ms": {"median": 5.0},
                                          "numpy_exact_ms": {"median": 10.0}}}}
    rows = run_all.summarise({"retrieval": retrieval_out, "chat": None})
    assert rows[0][0] == "retrieval" and rows[0][-1] is True


@pytest.mark.slow  # starts a real `baken serve`
def test_gateway_times_direct_and_gateway_calls_and_their_ratio(tmp_path: Path) -> None:
    from bench import gateway

    out = gateway.run(rounds=1, words=3, delay_ms=1, data_dir=tmp_path)
    assert out["direct"]["n"] == out["gateway_stream"]["n"] == out["baken_turn"]["n"] == 1
    assert out["ratio_stream"] > 0 and "met_plain" in out
    assert [row[0] for row in run_all.gateway_rows(out)] == ["gateway", "gateway"]
