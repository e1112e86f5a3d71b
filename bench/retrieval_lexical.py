"""Latency of the lexical (BM25) stage at 10,000 chunks: median and p95 ms per question, plus build cost.

Run from the repository root: `.venv/bin/python -m bench.retrieval_lexical [--chunks N]`.
Chunks are synthetic: 150 words each, drawn (seeded) from the shared corpus's vocabulary with its word
frequencies; the questions are those of bench/questions.jsonl. Writes bench/results/retrieval_lexical.json.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from bench.eval import CORPUS, QUESTIONS, ROOT, load_questions
from ingestion.lexical import LexicalIndex

RESULTS = ROOT / "bench" / "results" / "retrieval_lexical.json"


def synthetic_chunks(count: int, words_per_chunk: int = 150, seed: int = 6) -> list[str]:
    """``count`` chunk texts sampled from the corpus's Markdown words."""
    words: list[str] = []
    for path in sorted(CORPUS.rglob("*.md")):
        words += re.findall(r"[^\W_]+", path.read_text(encoding="utf-8", errors="replace"))
    rng = random.Random(seed)
    return [" ".join(rng.choices(words, k=words_per_chunk)) for _ in range(count)]


def main(argv: list[str] | None = None) -> int:
    """Index the synthetic chunks, time every question (after one warm-up), print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    texts = synthetic_chunks(args.chunks)
    questions = [q["question"] for q in load_questions(QUESTIONS)]
    with tempfile.TemporaryDirectory() as tmp:
        index = LexicalIndex(Path(tmp) / "lexical")
        started = time.perf_counter()
        per_doc = 20  # chunks per synthetic document
        for start in range(0, len(texts), per_doc):
            part = texts[start:start + per_doc]
            index.add_document(f"doc{start // per_doc:05d}", [f"c{start + i}" for i in range(len(part))], part)
        add_s = time.perf_counter() - started
        started = time.perf_counter()
        index.search("warm-up", 30)  # the first search after a change builds the BM25 matrix
        build_s = time.perf_counter() - started
        allowed = index.doc_ids()
        millis = []
        for _ in range(args.repeats):
            for question in questions:
                started = time.perf_counter()
                index.search(question, 30, allowed)
                millis.append((time.perf_counter() - started) * 1000)
        reopen_started = time.perf_counter()
        LexicalIndex(Path(tmp) / "lexical").search("warm-up", 30)
        reopen_s = time.perf_counter() - reopen_started
    millis.sort()
    result = {"chunks": args.chunks, "queries": len(millis), "median_ms": round(statistics.median(millis), 2),
              "p95_ms": round(millis[int(0.95 * (len(millis) - 1))], 2), "add_all_s": round(add_s, 2),
              "build_s": round(build_s, 2), "reopen_and_build_s": round(reopen_s, 2)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"lexical stage at {result['chunks']:,} chunks: median {result['median_ms']} ms, p95 {result['p95_ms']} ms"
          f" per question ({result['queries']} timed; search filtered to ready documents)")
    print(f"indexing {result['add_all_s']} s (persisted per document), BM25 build {result['build_s']} s,"
          f" reopen + build {result['reopen_and_build_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
