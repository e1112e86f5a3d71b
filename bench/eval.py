"""Evaluation of retrieval on the shared corpus: hit@1, hit@5 and MRR for dense, BM25 and hybrid, and the
calibrated "no source" thresholds; with --answers, the answers per mode too (bench/answers.py, real SmolLM2).

Run from the repository root: `.venv/bin/python -m bench.eval [--answers [N]]`. Writes bench/results/eval.json.
The indexed corpus is cached under data/bench/<key>/ (key: corpus files and chunking/embedding settings).
"""

from __future__ import annotations

import os

from core.offline import go_offline

go_offline()

import argparse
import hashlib
import json
import logging
import statistics
import sys
import time
from pathlib import Path

from baken.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BAKEN_SHARED_DIR", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
QUESTIONS = ROOT / "bench" / "questions.jsonl"
RESULTS = ROOT / "bench" / "results" / "eval.json"
CACHE = ROOT / "data" / "bench"
MODES = ("dense", "lexical", "hybrid")


def corpus_files() -> list[Path]:
    """Every document of the shared corpus (its README excluded), in a stable order."""
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "README.md")


def bench_settings(data_dir: Path | None = None) -> Settings:
    """Settings for the evaluation: the environment's, with the shared provisioned models."""
    base = Settings()
    models = base.models_dir or Path(os.environ.get("BAKEN_MODELS_DIR", ROOT / "data" / "models"))
    return base.model_copy(update={"data_dir": data_dir or base.data_dir, "models_dir": models})


def cache_dir(settings: Settings, files: list[Path] | None = None) -> Path:
    """The cached index for this corpus (or these files) and these chunking/embedding settings."""
    digest = hashlib.sha256()
    for path in files or corpus_files():
        digest.update(f"{path.name}:{path.stat().st_size}\n".encode())
    digest.update(f"{settings.embeddings.model}|{settings.embeddings.backend}|{settings.embeddings.query_prefix}|"
                  f"{settings.embeddings.passage_prefix}|{settings.ingestion.chunk_tokens}|"
                  f"{settings.ingestion.chunk_overlap}".encode())
    return CACHE / digest.hexdigest()[:16]


def build_corpus_index(settings: Settings, embedder=None, files: list[Path] | None = None):
    """The index over the whole corpus (or these files), built once and reused (ingest is idempotent, so a
    killed build resumes)."""
    from baken.wiring import build_index

    index = build_index(settings, embedder)
    marker = settings.data_dir / "complete"
    if marker.exists():
        return index
    started = time.perf_counter()
    files = files or corpus_files()
    for i, path in enumerate(files, start=1):
        outcome = index.ingest_file(path)
        if outcome.status == "failed":
            print(f"  skipped {path.name}: {outcome.error}", file=sys.stderr)
        if i % 25 == 0:
            print(f"  indexed {i}/{len(files)} files, {index.chunk_count()} chunks", file=sys.stderr)
    marker.write_text(f"{index.chunk_count()} chunks in {time.perf_counter() - started:.0f} s\n")
    return index


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    """The question set: id, question, documents (file names that answer it; empty = unanswerable)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def rank_of(hits: list, documents: list[str]) -> int | None:
    """1-based rank of the first hit from one of ``documents``, or None."""
    for rank, hit in enumerate(hits, start=1):
        if Path(hit.source).name in documents:
            return rank
    return None


def retrieval_metrics(index, questions: list[dict], mode: str, depth: int = 10) -> dict:
    """hit@1, hit@5 and MRR@depth over the answerable questions, plus the ranks and latency per question."""
    ranks, millis = {}, []
    for q in questions:
        if not q["documents"]:
            continue
        started = time.perf_counter()
        hits = index.search(q["question"], depth, -1.0, mode=mode)
        millis.append((time.perf_counter() - started) * 1000)
        ranks[q["id"]] = rank_of(hits, q["documents"])
    n = len(ranks)
    return {
        "hit@1": round(sum(r == 1 for r in ranks.values()) / n, 3),
        "hit@5": round(sum(r is not None and r <= 5 for r in ranks.values()) / n, 3),
        "mrr": round(sum(1 / r for r in ranks.values() if r) / n, 3),
        "median_ms": round(statistics.median(millis), 1),
        "ranks": ranks,
    }


def calibrate(index, questions: list[dict], min_kept: float = 0.9) -> dict:
    """The "no source" thresholds of hybrid search: a question has a source if its best dense cosine reaches
    one cut or one of its top BM25 matches covers the other share of it. Chosen to best separate the
    answerable questions from the unanswerable ones (balanced accuracy) keeping >= ``min_kept`` answerable."""
    features = {q["id"]: index.relevance(q["question"]) for q in questions}
    answerable = [features[q["id"]] for q in questions if q["documents"]]
    unanswerable = [features[q["id"]] for q in questions if not q["documents"]]

    def rates(cosine: float, coverage: float) -> tuple[float, float]:
        passes = [c >= cosine or v >= coverage for c, v in answerable]
        refusals = [not (c >= cosine or v >= coverage) for c, v in unanswerable]
        return sum(passes) / len(passes), (sum(refusals) / len(refusals) if refusals else 1.0)

    cosines = sorted({round(c, 2) for c, _ in features.values()} | {round(x / 100, 2) for x in range(0, 100, 2)}
                     | {2.0})
    coverages = sorted({round(v, 2) for _, v in features.values()} | {round(x / 20, 2) for x in range(21)}
                       | {2.0})
    scored = []
    for cosine in cosines:
        for coverage in coverages:
            kept, refused = rates(cosine, coverage)
            if kept >= min_kept:
                scored.append(((kept + refused) / 2, kept, -coverage, -cosine, cosine, coverage, refused))
    accuracy, kept, _, _, cosine, coverage, refused = max(scored)
    in_force = index.thresholds()
    kept_now, refused_now = rates(*in_force)
    return {"min_score": cosine, "min_coverage": coverage, "balanced_accuracy": round(accuracy, 3),
            "answerable_kept": round(kept, 3), "unanswerable_refused": round(refused, 3),
            "in_force": {"min_score": in_force[0], "min_coverage": in_force[1],
                         "answerable_kept": round(kept_now, 3), "unanswerable_refused": round(refused_now, 3)},
            "features": {k: [round(c, 3), round(v, 3)] for k, (c, v) in features.items()}}


def sweep(index, questions: list[dict]) -> list[dict]:
    """Hybrid variants (RRF constant, BM25 weight, candidates), to choose the defaults by measurement."""
    original = index.retrieval
    rows = []
    try:
        for rrf_k in (10, 30, 60):
            for weight in (0.5, 1.0, 1.5, 2.0):
                for candidates in (30, 60):
                    index.retrieval = original.model_copy(update={"rrf_k": rrf_k, "lexical_weight": weight,
                                                                  "candidates": candidates})
                    m = retrieval_metrics(index, questions, "hybrid")
                    rows.append({"rrf_k": rrf_k, "lexical_weight": weight, "candidates": candidates,
                                 **{k: m[k] for k in ("hit@1", "hit@5", "mrr")}})
    finally:
        index.retrieval = original
    return rows


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the corpus index, evaluate, print a table and write the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", nargs="?", type=int, const=-1, default=0,
                        help="also measure answers per mode on bench/answers.jsonl (bench.answers; all rows, or the"
                             " first N); about 8 s a question")
    parser.add_argument("--no-sweep", action="store_true", help="skip the fusion-parameter sweep")
    parser.add_argument("--build-only", action="store_true", help="only build the cached index")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    settings = bench_settings(cache_dir(bench_settings()))
    index = build_corpus_index(settings)
    if args.build_only:
        print(f"index: {settings.data_dir} ({index.chunk_count()} chunks)")
        return 0
    questions = load_questions()
    answerable = sum(bool(q["documents"]) for q in questions)
    results: dict = {"corpus_chunks": index.chunk_count(), "questions": answerable,
                     "unanswerable": len(questions) - answerable, "embedder": settings.embeddings.model,
                     "retrieval": settings.retrieval.model_dump(), "modes": {}}
    for mode in MODES:
        results["modes"][mode] = retrieval_metrics(index, questions, mode)
    if not args.no_sweep:
        results["sweep"] = sweep(index, questions)
    results["calibration"] = calibrate(index, questions)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_table(results)
    if args.answers:
        from bench import answers

        return answers.main([] if args.answers < 0 else [str(args.answers)])
    return 0


def print_table(results: dict) -> None:
    """The figures, as a table."""
    print(f"{results['questions']} answerable + {results['unanswerable']} unanswerable questions, "
          f"{results['corpus_chunks']} chunks, embedder {results['embedder']}")
    print(f"{'mode':<8} {'hit@1':>6} {'hit@5':>6} {'MRR':>6} {'ms':>7}")
    for mode, m in results["modes"].items():
        print(f"{mode:<8} {m['hit@1']:>6.3f} {m['hit@5']:>6.3f} {m['mrr']:>6.3f} {m['median_ms']:>7.1f}")
    if results.get("sweep"):
        best = max(results["sweep"], key=lambda r: (r["hit@5"], r["mrr"]))
        print(f"best fusion in sweep: {best}")
    c, f = results["calibration"], results["calibration"]["in_force"]
    print(f"no-source thresholds calibrated: cosine {c['min_score']:.2f} or coverage {c['min_coverage']:.2f} —"
          f" answerable kept {c['answerable_kept']:.2f}, unanswerable refused {c['unanswerable_refused']:.2f}")
    print(f"  in force (settings / ingestion.index.CALIBRATED): cosine {f['min_score']:.2f} or coverage"
          f" {f['min_coverage']:.2f} — answerable kept {f['answerable_kept']:.2f}, unanswerable refused"
          f" {f['unanswerable_refused']:.2f}")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    raise SystemExit(main())
