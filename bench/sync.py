"""Folder sync (issue 18): a first sync beside `Index.ingest_files` (what `baken ingest` does) on the same
documents, real embedder and sandbox, alternating (S, I, I, S…) into fresh directories; and a re-sync of an
unchanged folder of many files (size and mtime only, nothing read) beside the raw walk (`os.walk` + `stat`)
and beside reading and hashing every file (what a sync without the cheap check would cost); the first sync of
those many files (fake embedder: what the registry, Chroma and the sandbox cost per file) is timed too. And a
re-sync of a folder of corrupt files that failed before (remembered: not read) beside the same re-sync with
``retry_failed`` (every file read and parsed in the sandbox again, what each run cost before failures were
remembered).

    .venv/bin/python -m bench.sync [--docs 20] [--repeats 2] [--files 2000] [--failing 50]

Writes bench/results/sync.json.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import bench_settings, ratio, report, summary  # sets the offline env


def _index(data: Path, embedder: Any) -> Any:
    from baken.wiring import build_index

    index = build_index(bench_settings(data), embedder=embedder)
    index.start_parsing()
    index.recover()
    return index


def _folder_sync(data: Path, index: Any) -> Any:
    from baken.wiring import build_folder_sync

    return build_folder_sync(bench_settings(data), index)


def first_sync(files: list[Path], repeats: int, root: Path) -> dict[str, Any]:
    """Seconds for the same documents through a first sync and through `Index.ingest_files`."""
    from baken.wiring import build_embedder

    share = root / "share"
    share.mkdir(parents=True)
    for path in files:
        shutil.copy(path, share / path.name)
    embedder = build_embedder(bench_settings(root / "models-only"))
    seconds: dict[str, list[float]] = {"sync": [], "ingest": []}
    chunks = 0
    for n, kind in enumerate(("sync", "ingest", "ingest", "sync") * repeats):
        data = root / f"run-{n}"
        index = _index(data, embedder)
        started = time.perf_counter()
        if kind == "sync":
            report_ = _folder_sync(data, index).sync(share)
            chunks = sum(i.chunks for i in report_.items)
        else:
            index.ingest_files(sorted(share.iterdir()))
        seconds[kind].append(time.perf_counter() - started)
    return {"docs": len(files), "chunks": chunks, "sync_s": summary(seconds["sync"]),
            "ingest_s": summary(seconds["ingest"])}


def resync(count: int, root: Path) -> dict[str, Any]:
    """Milliseconds for a re-sync of ``count`` unchanged files (fake embedder: nothing is embedded anyway)."""
    from ingestion.embedder import FakeEmbedder

    share = root / "many"
    for n in range(count):
        folder = share / f"map-{n // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"nota-{n:05d}.md").write_text(f"# Nota {n}\n\n" + f"Besluit {n} over de wijk. " * 40,
                                                 encoding="utf-8")
    data = root / "resync"
    index = _index(data, FakeEmbedder())
    folder_sync = _folder_sync(data, index)
    started = time.perf_counter()
    folder_sync.sync(share)
    first_s = time.perf_counter() - started
    timings: dict[str, list[float]] = {"resync": [], "walk": [], "hash": []}
    for _ in range(3):
        started = time.perf_counter()
        counts = folder_sync.sync(share).counts()
        timings["resync"].append((time.perf_counter() - started) * 1000)
        assert counts["unchanged"] == count, counts
        started = time.perf_counter()
        walked = [os.stat(os.path.join(d, f)) for d, _, names in os.walk(share) for f in names]
        timings["walk"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        for d, _, names in os.walk(share):
            for f in names:
                hashlib.sha256(Path(d, f).read_bytes()).hexdigest()
        timings["hash"].append((time.perf_counter() - started) * 1000)
    assert len(walked) == count
    return {"files": count, "first_sync_s": round(first_s, 1), **{f"{k}_ms": summary(v) for k, v in timings.items()}}


def failing(count: int, root: Path) -> dict[str, Any]:
    """Milliseconds for a re-sync of ``count`` corrupt PDFs that failed before, remembered and retried."""
    from ingestion.embedder import FakeEmbedder

    share = root / "broken"
    share.mkdir(parents=True)
    for n in range(count):
        (share / f"scan-{n:03d}.pdf").write_bytes(b"%PDF-1.7\n" + hashlib.sha256(str(n).encode()).digest() * 64)
    data = root / "failing"
    folder_sync = _folder_sync(data, _index(data, FakeEmbedder()))
    assert folder_sync.sync(share).counts()["failed"] == count
    timings: dict[str, list[float]] = {"remembered": [], "retried": []}
    for _ in range(3):
        for kind in ("remembered", "retried"):
            started = time.perf_counter()
            counts = folder_sync.sync(share, retry_failed=kind == "retried").counts()
            timings[kind].append((time.perf_counter() - started) * 1000)
            assert counts["failed_unchanged" if kind == "remembered" else "failed"] == count, counts
    return {"files": count, **{f"{k}_ms": summary(v) for k, v in timings.items()}}


def main(argv: list[str] | None = None) -> int:
    from bench.ingest import corpus_files

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--failing", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="baken-bench-sync-") as tmp:
        root = Path(tmp)
        first = first_sync(corpus_files(args.docs), args.repeats, root / "first")
        again = resync(args.files, root / "again")
        broken = failing(args.failing, root / "broken")
    sync_s, ingest_s = first["sync_s"]["median"], first["ingest_s"]["median"]
    rows = [
        ["first sync of the many small files, fake embedder (s)", f"{again['files']} files", again["first_sync_s"],
         "", "", ""],
        ["first sync (s, median)", f"{first['docs']} docs / {first['chunks']} chunks", sync_s, ingest_s,
         ratio(sync_s, ingest_s), "Index.ingest_files"],
        ["re-sync, nothing changed (ms, median)", f"{again['files']} files", again["resync_ms"]["median"],
         again["walk_ms"]["median"], ratio(again["resync_ms"]["median"], again["walk_ms"]["median"]),
         "os.walk + stat"],
        ["re-sync beside hashing every file (ms, median)", f"{again['files']} files", again["resync_ms"]["median"],
         again["hash_ms"]["median"], ratio(again["resync_ms"]["median"], again["hash_ms"]["median"]),
         "read + sha256"],
        ["re-sync of files that failed before and did not change (ms, median)", f"{broken['files']} corrupt PDFs",
         broken["remembered_ms"]["median"], broken["retried_ms"]["median"],
         ratio(broken["remembered_ms"]["median"], broken["retried_ms"]["median"]), "--retry-failed (parsed again)"],
    ]
    report("sync", "Folder sync", ["measure", "size", "Baken", "raw baseline", "ratio", "baseline"], rows,
           {"first": first, "resync": again, "failing": broken})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
