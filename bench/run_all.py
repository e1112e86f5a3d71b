"""Run every benchmark, one subprocess each (so each has the machine and its memory to itself), then print one
combined markdown table from bench/results/*.json and write bench/results/all.json.

    .venv/bin/python -m bench.run_all [--only chat ingest ...] [--skip memory ...] [--table-only]

Budget: the whole suite within 15 minutes on a 2-core machine once data/bench/ holds its caches (the 100,000-
vector Chroma store, the ONNX export and its corpus vectors); the first run builds them and takes longer.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from bench.common import RESULTS, ROOT, Stopwatch, fmt, table, write_results  # sets the offline env

# name -> extra arguments; run in this order (the heavy model benches first, cheap ones after)
BENCHES: dict[str, list[str]] = {
    "chat": [], "ingest": [], "retrieval": [], "concurrency": [], "memory": [],
    "pii": ["--repeats", "1"], "audit": [], "retrieval_lexical": [], "scale_out": [], "gateway": [],
    "overview": [],
}


def load(name: str) -> dict[str, Any] | None:
    """bench/results/<name>.json, or None."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def summarise(results: dict[str, dict[str, Any] | None]) -> list[list[Any]]:
    """One table: bench, measure, Baken, baseline, ratio, target, met."""
    rows: list[list[Any]] = []
    if c := results.get("chat"):
        api, raw = c["modes"]["api"], c["modes"]["raw"]
        rows.append(["chat", "turn total, Assistant.ask (ms, median)", api["total_ms"]["median"],
                     raw["total_ms"]["median"], api["total_ratio"]["median"], "ratio <= 1.05",
                     c["targets"]["total_ratio_api"]["met"]])
        if "http" in c["modes"]:
            http = c["modes"]["http"]
            rows.append(["chat", "turn total, HTTP + SSE (ms, median)", http["total_ms"]["median"],
                         raw["total_ms"]["median"], http["total_ratio"]["median"], "ratio <= 1.05",
                         c["targets"]["total_ratio_http"]["met"]])
            rows.append(["chat", "time to first token, HTTP (ms, median / p95)",
                         f"{fmt(http['ttft_ms']['median'])} / {fmt(http['ttft_ms']['p95'])}",
                         fmt(raw["ttft_ms"]["median"]), "", "", ""])
        rows.append(["chat", "time to first token, Assistant.ask (ms, median)", api["ttft_ms"]["median"],
                     raw["ttft_ms"]["median"], round(api["ttft_ms"]["median"] / raw["ttft_ms"]["median"], 3), "", ""])
        before = c["non_model_before_first_token_ms"]
        rows.append(["chat", "non-model time before first token (ms, median)", before["median"], "", "",
                     "<= 150 ms", c["targets"]["non_model_before_first_token_ms"]["met"]])
    if i := results.get("ingest"):
        rows.append(["ingest", f"chunks/s, {i['docs']} docs / {i['chunks']} chunks", i["baken"]["chunks_per_s"],
                     i["raw"]["chunks_per_s"], i["ratio"], "ratio >= 0.9", i["target"]["met"]])
        if box := i.get("sandbox"):
            rows.append(["ingest", "sandboxed parsing: extra ms per file (median / p95); worker start once (ms)",
                         (f"{fmt(box['overhead_ms_per_file']['median'])} / "
                          f"{fmt(box['overhead_ms_per_file']['p95'])}; {fmt(box['start_ms']['median'])}"),
                         "", "", "", ""])
        speed = i.get("backends", {}).get("speed", {})
        quality = i.get("backends", {}).get("quality", {})
        base = speed.get("torch (Baken)", {}).get("chunks_per_s")
        for name, row in speed.items():
            if name.startswith("torch"):
                continue
            hit = quality.get(name, {}).get("hit@5")
            rows.append(["ingest", f"embedding {name} (chunks/s{', dense hit@5' if hit is not None else ''})",
                         row["chunks_per_s"] if hit is None else f"{fmt(row['chunks_per_s'])}, {fmt(hit)}",
                         base if hit is None else f"{fmt(base)}, {fmt(quality.get('torch (Baken)', {}).get('hit@5'))}",
                         round(row["chunks_per_s"] / base, 2) if base else "",
                         "" if hit is None else "hit@5 within 0.01", ""])
    if r := results.get("retrieval"):
        for size, s in r["sizes"].items():
            rows.append(["retrieval", f"query p50 at {int(size):,} chunks (ms), recall@10 {fmt(s['recall_at_10'])}",
                         s["chroma_store_ms"]["median"], s["numpy_exact_ms"]["median"],
                         round(s["chroma_store_ms"]["median"] / s["numpy_exact_ms"]["median"], 2),
                         "p50 <= 20 ms at 100k; recall >= 0.95",
                         s["recall_at_10"] >= 0.95 and (int(size) < 100_000 or s["chroma_store_ms"]["median"] <= 20)])
    if p := results.get("pii"):
        a = p["groups"]["all"]
        rows.append(["pii", "ms per 1,000 characters (median)", a["stage_median"], a["presidio_median"],
                     round(a["ratio_median"], 3), "", ""])
    if c := results.get("concurrency"):
        for n, lv in c["levels"].items():
            rows.append(["concurrency", (f"{n} chats: tokens/s; TTFT p95 {fmt(lv['ttft_ms']['p95'])} ms; "
                                         f"errors {len(lv['errors'])}; audited {lv['audited']}/{lv['turns']}"),
                         lv["tokens_per_s"],
                         c["levels"][next(iter(c["levels"]))]["tokens_per_s"], lv["ratio"], "ratio >= 0.95",
                         lv["ratio"] >= 0.95 and not lv["errors"] and lv["audited"] == lv["turns"]])
    if m := results.get("memory"):
        rows.append(["memory", f"peak RSS after {m['chats']} chats (MB)", m["peak_rss_mb"], "", "", "", ""])
        rows.append(["memory", "start to ready (s)", m["start_ready_seconds"], "", "", "", ""])
    if a := results.get("audit"):
        rows.append(["audit", "append one turn, fsync (ms, median)", a["append"]["append_median_ms"], "", "",
                     "<= 5 ms", a["append"]["append_median_ms"] <= 5])
        rows.append(["audit", f"verify {a['records']:,} records (s)", a["verify"]["verify_median_s"], "", "",
                     "<= 10 s", a["verify"]["verify_max_s"] <= 10])
    if o := results.get("overview"):
        for store, r in o["results"].items():
            rows.append(["overview", f"manager / auditor overview, {r['records']:,} records, {store} (ms)",
                         f"{r['manager_s'] * 1000:.0f} / {r['auditor_s'] * 1000:.0f}",
                         round(r["python_baseline_s"] * 1000), round(r["manager_s"] / r["python_baseline_s"], 3),
                         "< 1 s", max(r["manager_s"], r["auditor_s"]) < o["target_s"]])
    if x := results.get("retrieval_lexical"):
        rows.append(["retrieval_lexical", f"BM25 query at {x['chunks']:,} chunks (ms, median)", x["median_ms"], "",
                     "", "", ""])
    if s := results.get("scale_out"):
        rows += scale_out_rows(s)
    if g := results.get("gateway"):
        rows += gateway_rows(g)
    return rows


def gateway_rows(g: dict[str, Any]) -> list[list[Any]]:
    """The /v1 API beside a direct call to the same model server, streamed and whole."""
    return [["gateway", (f"/v1 {label} beside the model server direct (ms, median); Baken's own "
             f"{fmt(g[f'overhead_ms_{kind}'])} ms"), g[f"gateway_{kind}"]["median"], g["direct"]["median"],
             g[f"ratio_{kind}"], "ratio <= 1.05 and <= 50 ms", g[f"met_{kind}"]]
            for kind, label in (("stream", "streamed"), ("plain", "whole answer"))]


def scale_out_rows(s: dict[str, Any]) -> list[list[Any]]:
    """PostgreSQL beside SQLite (SQLite alone when PostgreSQL was missing), and resume beside the question."""
    pg, lite = s["sides"].get("postgres"), s["sides"]["sqlite"]
    rows: list[list[Any]] = []
    for key, label in (("session_us", "Accounts.session per request (µs, median)"),
                       ("turn_ms", "one turn's shared-state writes, 10 s answer (ms, median)"),
                       ("ready_ids_ms", f"Registry.ready_ids at {s['documents']:,} documents (ms, median)")):
        base = lite[key]["median"]
        rows.append(["scale_out", f"{label}: PostgreSQL beside SQLite" if pg else f"{label}: SQLite (no PostgreSQL)",
                     pg[key]["median"] if pg else base, base if pg else "",
                     round(pg[key]["median"] / base, 3) if pg else "", "", ""])
    r = s["resume"]
    rows.append(["scale_out", f"Assistant.resume of {r['exchanges']} exchanges beside redacting the question (ms, median)",
                 r["resume_ms"]["median"], r["question_ms"]["median"], r["ratio"], "", ""])
    return rows


HEADERS = ["bench", "measure", "Baken", "raw baseline", "ratio", "target", "met"]


def main(argv: list[str] | None = None) -> int:
    """Run the benches (or only print the table), print the combined table, write bench/results/all.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), help="run only these")
    parser.add_argument("--skip", nargs="+", choices=list(BENCHES), default=[], help="do not run these")
    parser.add_argument("--table-only", action="store_true", help="print the table from the existing results")
    args = parser.parse_args(argv)
    chosen = [] if args.table_only else [b for b in (args.only or BENCHES) if b not in args.skip]
    seconds: dict[str, float] = {}
    failed: list[str] = []
    suite = Stopwatch()
    for name in chosen:
        print(f"\n=== bench.{name} ===", flush=True)
        clock = Stopwatch()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}", *BENCHES[name]], cwd=ROOT)
        seconds[name] = round(clock.ms() / 1000, 1)
        print(f"=== bench.{name}: exit {code}, {seconds[name]:.0f} s ===", flush=True)
        if code:
            failed.append(name)
    total = round(suite.ms() / 1000, 1)
    results = {name: load(name) for name in BENCHES}
    rows = summarise(results)
    print("\n## All benchmarks\n")
    print(table(HEADERS, rows))
    if chosen:
        print(f"\nsuite: {total:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in seconds.items())})"
              + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    write_results("all", {"seconds": seconds, "total_seconds": total, "failed": failed}, rows, HEADERS)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
