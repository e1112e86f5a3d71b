"""Retrieval: query latency of the Chroma store at 10,000 and 100,000 chunks, beside exact NumPy search, and
recall@10 of Chroma's HNSW against the exact answer; and the same with a collection filter (`where`, as a
reader of some collections searches): 90% of the chunks readable (`algemeen`), and 10% (`hr`).

    .venv/bin/python -m bench.retrieval [--sizes 10000 100000] [--queries 200]

Vectors are synthetic, 384-dimensional like all-MiniLM-L6-v2's, and clustered the way text embeddings are (a
random vector has no meaningful neighbours and makes any HNSW look bad): 1 chunk in 20 shares a topic centre.
Queries are drawn like chunks but are not in the store. Each store is built once through Baken's `ChromaStore`
and kept under data/bench/retrieval-<n>/ (git-ignored), so later runs only query. Writes
bench/results/retrieval.json. Targets (issue 8): recall@10 >= 0.95; p50 <= 20 ms at 100,000 chunks.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

from bench.common import CACHE, Stopwatch, report, summary  # sets the offline env

DIM, K, SEED = 384, 10, 8
RECALL_TARGET, P50_TARGET_MS = 0.95, 20.0
DEPTH = 60  # what Index.search asks the store for: max(top_k, candidates=30) * 2


def vectors(count: int, seed: int, topics: int) -> Any:
    """``count`` unit vectors around ``topics`` random centres (cosine to the centre about 0.7)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((topics, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    points = centres[rng.integers(0, topics, count)] + rng.standard_normal((count, DIM)).astype(np.float32) / DIM ** 0.5
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def collection_of(i: int) -> str:
    """Every tenth document is in `hr`, the rest in `algemeen`."""
    return "hr" if (i // 20) % 10 == 0 else "algemeen"


def build_store(count: int, data: Any, where: Path) -> tuple[Any, float | None]:
    """Baken's ChromaStore holding ``data`` (built once; seconds to build, or None when it was cached)."""
    from ingestion.store import ChromaStore

    marker = where / "complete"
    if marker.exists():
        return ChromaStore(where / "chroma"), None
    shutil.rmtree(where, ignore_errors=True)
    store = ChromaStore(where / "chroma")
    clock = Stopwatch()
    batch = 5000
    for start in range(0, count, batch):
        end = min(count, start + batch)
        store.add([f"c{i:06d}" for i in range(start, end)], data[start:end].tolist(),
                  [f"chunk {i}" for i in range(start, end)],
                  [{"doc_id": f"d{i // 20:05d}", "ordinal": i % 20, "title": "synthetic",
                    "collection": collection_of(i)} for i in range(start, end)])
    seconds = clock.ms() / 1000
    marker.write_text(f"{count} vectors in {seconds:.0f} s\n")
    return store, seconds


def measure(count: int, queries: int, workdir: Path) -> dict[str, Any]:
    """Latency of Chroma (through ChromaStore, and raw `collection.query`) and exact NumPy, and recall@10."""
    import numpy as np

    data = vectors(count, SEED, max(10, count // 20))
    asked = _same_topics(count, queries)
    opened = Stopwatch()
    store, build_s = build_store(count, data, workdir / f"retrieval-{count}-collections")
    store.query(asked[0].tolist(), K)  # the first query loads the HNSW index
    open_ms = opened.ms()
    collection = store._collection
    exact_ids = []
    numpy_ms, store_ms, raw_ms, deep_ms, count_ms, recall = [], [], [], [], [], []
    for vector in asked:
        started = time.perf_counter()
        scores = data @ vector
        top = np.argpartition(-scores, K)[:K]
        top = top[np.argsort(-scores[top])]
        numpy_ms.append((time.perf_counter() - started) * 1000)
        exact_ids.append({f"c{i:06d}" for i in top})
    as_lists = [v.tolist() for v in asked]
    for vector, exact in zip(as_lists, exact_ids):
        started = time.perf_counter()
        hits = store.query(vector, K)
        store_ms.append((time.perf_counter() - started) * 1000)
        recall.append(len({h.id for h in hits} & exact) / K)
        started = time.perf_counter()
        collection.query(query_embeddings=[vector], n_results=K, include=["documents", "metadatas", "distances"])
        raw_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        collection.count()
        count_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        store.query(vector, DEPTH)
        deep_ms.append((time.perf_counter() - started) * 1000)
    filtered = {name: _filtered(store, data, as_lists, {name}) for name in ("algemeen", "hr")}
    return {"chunks": count, "queries": queries, "build_seconds": build_s, "open_and_first_query_ms": open_ms,
            "filtered": filtered,
            "numpy_exact_ms": summary(numpy_ms), "chroma_store_ms": summary(store_ms),
            "chroma_raw_ms": summary(raw_ms), "chroma_count_ms": summary(count_ms), f"chroma_store_k{DEPTH}_ms": summary(deep_ms),
            "recall_at_10": round(float(np.mean(recall)), 4), "recall_at_10_min": round(float(np.min(recall)), 2)}


def _filtered(store: Any, data: Any, asked: list[list[float]], readable: set[str]) -> dict[str, Any]:
    """Latency and recall@10 of a query filtered to ``readable`` collections, against exact search among them."""
    import numpy as np

    inside = np.array([collection_of(i) in readable for i in range(len(data))])
    ids = np.flatnonzero(inside)
    took, recall = [], []
    for vector in asked:
        scores = data[ids] @ np.asarray(vector, dtype=np.float32)
        exact = {f"c{ids[j]:06d}" for j in np.argsort(-scores)[:K]}
        started = time.perf_counter()
        hits = store.query(vector, K, readable)
        took.append((time.perf_counter() - started) * 1000)
        assert all(collection_of(int(h.id[1:])) in readable for h in hits)
        recall.append(len({h.id for h in hits} & exact) / K)
    return {"share": round(float(inside.mean()), 3), "ms": summary(took), "recall_at_10": round(float(np.mean(recall)), 4)}


def _same_topics(count: int, queries: int) -> Any:
    """Query vectors around the same centres as the stored ones (the centres come first from the same seed)."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    topics = max(10, count // 20)
    centres = rng.standard_normal((topics, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    other = np.random.default_rng(SEED + 100)
    points = centres[other.integers(0, topics, queries)] + \
        other.standard_normal((queries, DIM)).astype(np.float32) / DIM ** 0.5
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def run(sizes: tuple[int, ...] = (10_000, 100_000), queries: int = 200, workdir: Path = CACHE) -> dict[str, Any]:
    """Measure every size; returns the results."""
    workdir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"dim": DIM, "k": K, "sizes": {}}
    for count in sizes:
        out["sizes"][str(count)] = measure(count, queries, workdir)
    largest = out["sizes"][str(max(sizes))]
    out["targets"] = {
        "recall_at_10": {"value": min(s["recall_at_10"] for s in out["sizes"].values()), "target": RECALL_TARGET,
                         "met": all(s["recall_at_10"] >= RECALL_TARGET for s in out["sizes"].values())},
        "p50_ms_at_largest": {"value": largest["chroma_store_ms"]["median"], "target": P50_TARGET_MS,
                              "chunks": max(sizes), "met": largest["chroma_store_ms"]["median"] <= P50_TARGET_MS},
    }
    return out


HEADERS = ["retrieval", "chunks", "p50 ms", "p95 ms", "ratio p50 vs numpy", "recall@10", "target"]


def rows_of(out: dict[str, Any]) -> list[list[Any]]:
    """The table rows."""
    rows: list[list[Any]] = []
    for size, s in out["sizes"].items():
        n = int(size)
        base = s["numpy_exact_ms"]["median"]
        ok = s["recall_at_10"] >= RECALL_TARGET and (n < 100_000 or s["chroma_store_ms"]["median"] <= P50_TARGET_MS)
        rows.append(["ChromaStore.query k=10 (Baken)", n, s["chroma_store_ms"]["median"], s["chroma_store_ms"]["p95"],
                     round(s["chroma_store_ms"]["median"] / base, 2), s["recall_at_10"], ok])
        rows.append(["raw collection.query k=10 (same include)", n, s["chroma_raw_ms"]["median"], s["chroma_raw_ms"]["p95"],
                     round(s["chroma_raw_ms"]["median"] / base, 2), "", ""])
        rows.append(["raw collection.count() (ChromaStore.query calls it)", n, s["chroma_count_ms"]["median"],
                     s["chroma_count_ms"]["p95"], "", "", ""])
        deep = s[f"chroma_store_k{DEPTH}_ms"]
        rows.append([f"ChromaStore.query k={DEPTH} (as Index.search)", n, deep["median"], deep["p95"],
                     round(deep["median"] / base, 2), "", ""])
        for name, f in s.get("filtered", {}).items():
            rows.append([f"ChromaStore.query k=10, where collection={name} ({f['share']:.0%} of chunks)", n,
                         f["ms"]["median"], f["ms"]["p95"], round(f["ms"]["median"] / base, 2), f["recall_at_10"], ""])
        rows.append(["exact NumPy (float32 matmul)", n, base, s["numpy_exact_ms"]["p95"], 1.0, 1.0, ""])
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and write bench/results/retrieval.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    out = run(tuple(args.sizes), args.queries)
    builds = ", ".join(f"{k}: {v['build_seconds']:.0f} s" if v["build_seconds"] else f"{k}: cached"
                       for k, v in out["sizes"].items())
    report("retrieval", f"Retrieval (synthetic {DIM}-dim vectors; store build {builds})", HEADERS, rows_of(out), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
