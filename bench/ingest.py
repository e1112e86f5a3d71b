"""Ingestion: documents and chunks per second through `Index.ingest_file`, beside raw `SentenceTransformer.encode`
plus raw chroma `collection.add` on the same chunks; and faster embedding backends exported locally from the
packaged model, with their speed and dense hit@5 on bench/eval.py's questions: Baken's own backends (torch,
OpenVINO fp32 and int8 from the provisioned export, remote over loopback HTTP) and ONNX Runtime fp32 / int8.

    .venv/bin/python -m bench.ingest [--docs 20] [--repeats 2] [--no-backends]
    .venv/bin/python -m bench.ingest --formats [--ocr-pages 5]   # issue 18: OCR s/page, the whole shared corpus

Baken and raw runs alternate (B, R, R, B, ...), each into a fresh directory; the Baken side embeds with the
default backend (the catalogue's, OpenVINO int8), the raw side with sentence-transformers on torch. The ONNX
model is exported here with `torch.onnx` (mean pooling and normalisation inside the graph) and quantised with
onnxruntime's dynamic int8 quantiser; `onnx` is not a Baken dependency, so it is looked for in
data/bench/pydeps (`pip install --no-deps --target data/bench/pydeps onnx ml_dtypes`). The hit@5
comparison needs bench/eval.py's cached corpus index (`python -m bench.eval --build-only`); without it it is
skipped. Writes bench/results/ingest.json. Target (issue 8): Baken/raw throughput ratio >= 0.9.

The Baken side parses in the sandbox (`ingestion.sandbox`, the default), worker start included. The sandbox's
own cost is also timed apart (issue 14): the worker's start, and per file the sandboxed parse beside the same
parse in process, over the same files.

``--formats`` (issue 18) measures instead: OCR seconds per page of a generated A4 scan (Tesseract nld+eng at
200 dpi, through the sandbox, as Baken reads it), and `baken ingest` of the whole shared corpus (every file,
the XLSX included) into a fresh data directory as a child process: seconds, documents, chunks, failures and
its peak RSS. Writes bench/results/ingest-formats.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import CACHE, Stopwatch, bench_settings, fmt, report, summary  # sets the offline env

RATIO_TARGET = 0.9
PYDEPS = CACHE / "pydeps"
ONNX_DIR = CACHE / "onnx-all-minilm-l6-v2"
QUALITY_BACKENDS = ("torch (Baken)", "onnxruntime int8", "openvino (Baken)", "openvino-int8 (Baken)")  # slow


def corpus_files(count: int) -> list[Path]:
    """``count`` Markdown documents of the algoritmekader corpus, spread over it, in a stable order."""
    from tests.paths import CORPUS

    files = sorted(p for p in (CORPUS / "algoritmekader").glob("*.md") if not p.name.startswith("LICENSE"))
    step = max(1, len(files) // count)
    return files[::step][:count]


def chunks_of(files: list[Path], embedder: Any, settings: Any) -> list[Any]:
    """The chunks Baken makes of ``files`` (same parser, chunker and settings as `Index.ingest_bytes`)."""
    import hashlib

    from ingestion.chunker import chunk_document
    from ingestion.parsers import parse

    chunks = []
    for path in files:
        data = path.read_bytes()
        chunks += chunk_document(parse(data, path.name), hashlib.sha256(data).hexdigest(), embedder.count_tokens,
                                 min(settings.ingestion.chunk_tokens, embedder.max_tokens - 2),
                                 settings.ingestion.chunk_overlap)
    return chunks


def baken_ingest(files: list[Path], embedder: Any, workdir: Path) -> dict[str, float]:
    """`Index.ingest_files` (what `baken ingest` runs) into a fresh index: seconds, documents, chunks."""
    from baken.wiring import build_index

    index = build_index(bench_settings(workdir), embedder)
    index.start_parsing()  # as `baken ingest` does: the worker starts beside the embedder's load
    clock, cpu = Stopwatch(), time.process_time()
    outcomes = index.ingest_files(files)
    seconds, cpu = clock.ms() / 1000, time.process_time() - cpu
    failed = [o.source for o in outcomes if o.status == "failed"]
    if failed:
        raise RuntimeError(f"ingestion failed for {failed}")
    return {"seconds": seconds, "cpu_seconds": cpu, "docs": len(files), "chunks": index.chunk_count()}


def raw_ingest(chunks: list[Any], model: Any, batch_size: int, workdir: Path) -> dict[str, float]:
    """Raw `SentenceTransformer.encode` and chroma `collection.add` of the same chunks into a fresh collection."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(workdir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("raw", embedding_function=None,
                                                 configuration={"hnsw": {"space": "cosine"}})
    clock, cpu = Stopwatch(), time.process_time()
    vectors = model.encode([c.embed_text for c in chunks], batch_size=batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    collection.add(ids=[c.id for c in chunks], embeddings=vectors, documents=[c.text for c in chunks],
                   metadatas=[{"doc_id": c.doc_id, "ordinal": c.ordinal, "title": c.title} for c in chunks])
    seconds, cpu = clock.ms() / 1000, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, "chunks": collection.count()}


def sandbox_overhead(files: list[Path], repeats: int) -> dict[str, Any]:
    """The worker's start (ms) and the extra ms per file of parsing in the sandbox instead of in process."""
    from ingestion.sandbox import InProcessParser, SandboxedParser

    blobs = [(p.read_bytes(), p.name) for p in files]
    direct, sandboxed = InProcessParser(), SandboxedParser()
    starts, extra = [], []
    try:
        for _ in range(max(repeats, 3)):
            sandboxed.close()
            clock = Stopwatch()
            sandboxed.parse(b"start", "start.txt")
            starts.append(clock.ms())
            for data, name in blobs:
                clock = Stopwatch()
                direct.parse(data, name)
                inside = clock.ms()
                clock = Stopwatch()
                sandboxed.parse(data, name)
                extra.append(clock.ms() - inside)
    finally:
        sandboxed.close()
    return {"start_ms": summary(starts), "overhead_ms_per_file": summary(extra), "files": len(blobs)}


# --- other embedding backends --------------------------------------------------------------------------------

def export_onnx(model: Any, target: Path) -> dict[str, Path]:
    """fp32 and int8 ONNX files of ``model`` (a SentenceTransformer): transformer + mean pooling + normalise."""
    import torch

    from ingestion.embedder import pooled_module

    fp32, int8 = target / "model.onnx", target / "model_int8.onnx"
    if fp32.exists() and int8.exists():
        return {"fp32": fp32, "int8": int8}
    target.mkdir(parents=True, exist_ok=True)
    graph, sample, _ = pooled_module(model)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    torch.onnx.export(graph, tuple(sample[n] for n in names), str(fp32),
                      input_names=names, output_names=["embedding"], dynamic_axes=axes, opset_version=17,
                      dynamo=False)
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return {"fp32": fp32, "int8": int8}


class GraphEncoder:
    """Sentence vectors from an exported graph, on ONNX Runtime or OpenVINO, with the model's own tokenizer."""

    def __init__(self, path: Path, tokenizer: Any, runtime: str, max_length: int) -> None:
        import numpy as np

        self._np, self._tokenizer, self._max = np, tokenizer, max_length
        if runtime == "onnxruntime":
            import onnxruntime as ort

            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            self._run = lambda feed: session.run(None, feed)[0]
        else:
            import openvino as ov

            compiled = ov.Core().compile_model(str(path), "CPU")
            self._run = lambda feed: compiled(feed)[0]

    def encode(self, texts: list[str], batch_size: int = 32) -> Any:
        """Normalised vectors, one row per text."""
        np, out = self._np, []
        for start in range(0, len(texts), batch_size):
            enc = self._tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                                  max_length=self._max, return_tensors="np")
            out.append(self._run({k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask",
                                                                         "token_type_ids")}))
        return np.concatenate(out)


def _ensure_pydeps() -> None:
    """Install the exporter's packages (not Baken dependencies) beside the bench caches on first use."""
    if (PYDEPS / "onnx").exists():
        return
    import subprocess

    print("bench.ingest: installing onnx into data/bench/pydeps (first run only)", file=sys.stderr)
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                             str(PYDEPS), "onnx", "ml_dtypes"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(f"bench.ingest: could not install them: {result.stderr.strip()[-300:]}", file=sys.stderr)


def backends(model: Any, settings: Any = None) -> dict[str, Any]:
    """name -> encoder with ``encode(texts, batch_size)``: torch (raw sentence-transformers, as Baken's torch
    backend runs it), Baken's OpenVINO backends (the provisioned export), Baken's remote backend against a
    loopback server that runs the OpenVINO int8 model, and ONNX Runtime over this bench's own export."""
    found: dict[str, Any] = {"torch (Baken)": _TorchEncoder(model)}
    if settings is not None:
        from baken.wiring import build_embedder

        for backend in ("openvino", "openvino-int8"):
            found[f"{backend} (Baken)"] = _BakenEncoder(build_embedder(
                settings.model_copy(update={"embeddings": settings.embeddings.model_copy(update={"backend": backend})})))
        found["remote (Baken, loopback)"] = _remote(found["openvino-int8 (Baken)"].embedder, settings)
    _ensure_pydeps()
    if PYDEPS.exists() and str(PYDEPS) not in sys.path:
        sys.path.append(str(PYDEPS))
    try:
        files = export_onnx(model, ONNX_DIR)
    except Exception as exc:  # noqa: BLE001 (torch raises OnnxExporterError, not ImportError, without onnx)
        print(f"ONNX export skipped: {exc} (see the module docstring)", file=sys.stderr)
        return found
    limit = int(model.max_seq_length or 256)
    found["onnxruntime fp32"] = GraphEncoder(files["fp32"], model.tokenizer, "onnxruntime", limit)
    found["onnxruntime int8"] = GraphEncoder(files["int8"], model.tokenizer, "onnxruntime", limit)
    return found


class _BakenEncoder:
    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder

    def encode(self, texts: list[str], batch_size: int = 32) -> Any:
        import numpy as np

        return np.asarray(self.embedder.embed_passages(texts), dtype=np.float32)


def _remote(local: Any, settings: Any) -> _BakenEncoder:
    """Baken's OpenAIEmbedder against an OpenAI-compatible /v1/embeddings server on loopback (a thread of this
    process, stdlib http.server) that embeds with ``local``: the wire, JSON and batching cost of the remote
    backend with the same model, so its hit@5 is the local one's."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from ingestion.remote_embedder import OpenAIEmbedder

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            vectors = local.embed_passages(body["input"])
            data = json.dumps({"object": "list", "model": body["model"], "data": [
                {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return _BakenEncoder(OpenAIEmbedder(f"http://127.0.0.1:{server.server_address[1]}", model=local.name,
                                        batch_size=settings.embeddings.batch_size))


class _TorchEncoder:
    def __init__(self, model: Any) -> None:
        self._model = model

    def encode(self, texts: list[str], batch_size: int = 32) -> Any:
        return self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False)


def dense_hit_at_5(encoders: dict[str, Any]) -> dict[str, Any]:
    """Dense hit@5 of each encoder on bench/eval.py's questions over its cached corpus index (exact search)."""
    import numpy as np

    from bench.eval import bench_settings as eval_settings
    from bench.eval import cache_dir, load_questions
    from ingestion.chunker import _header
    from ingestion.store import ChromaStore

    where = cache_dir(eval_settings())
    if not (where / "complete").exists():
        return {"skipped": f"no cached corpus index at {where}: run `python -m bench.eval --build-only`"}
    store = ChromaStore(where / "index" / "chroma")
    stored = store._collection.get(include=["documents", "metadatas", "embeddings"])
    meta = stored["metadatas"]
    texts = [f"{_header(str(m.get('title', '')), str(m.get('heading', '')), int(m.get('page') or 0) or None)}\n{t}"
             for t, m in zip(stored["documents"], meta)]
    names = np.array([Path(str(m.get("source", ""))).name for m in meta])
    questions = [q for q in load_questions() if q["documents"]]
    results: dict[str, Any] = {"chunks": len(texts), "questions": len(questions)}
    reference = None
    for name, encoder in encoders.items():
        if name not in QUALITY_BACKENDS:
            continue
        cached = ONNX_DIR / f"corpus-{name.replace(' ', '-')}-{len(texts)}.npy"
        clock = Stopwatch()
        if name.startswith("torch"):
            matrix = np.asarray(stored["embeddings"], dtype=np.float32)
        elif cached.exists():
            matrix = np.load(cached)
        else:
            matrix = encoder.encode(texts)
            np.save(cached, matrix)
        seconds = clock.ms() / 1000
        queries = encoder.encode([q["question"] for q in questions])
        hits = 0
        for q, vector in zip(questions, queries):
            top = np.argsort(-(matrix @ vector))[:5]
            hits += any(n in q["documents"] for n in names[top])
        row = {"hit@5": round(hits / len(questions), 3)}
        if reference is None:
            reference = matrix
        else:
            row["cosine_to_torch"] = round(float(np.mean(np.sum(matrix * reference, axis=1))), 4)
            row["corpus_seconds"] = round(seconds, 1)
        results[name] = row
    return results


def measure_backends(model: Any, texts: list[str], batch_size: int, repeats: int, quality: bool,
                     settings: Any = None) -> dict[str, Any]:
    """Chunks per second of each backend on ``texts`` and, optionally, hit@5. The backends take turns in each
    round (so a busy spell of the machine hits them all), and each one's ratio to torch is the median of its
    per-round ratios."""
    encoders = backends(model, settings)
    seconds: dict[str, list[float]] = {name: [] for name in encoders}
    for encoder in encoders.values():
        encoder.encode(texts[:batch_size], batch_size)  # warm-up
    for _ in range(repeats):
        for name, encoder in encoders.items():
            started = time.perf_counter()
            encoder.encode(texts, batch_size)
            seconds[name].append(time.perf_counter() - started)
    torch_s = seconds["torch (Baken)"]
    speed: dict[str, Any] = {
        name: {"chunks_per_s": round(len(texts) / summary(times)["median"], 1), "seconds": summary(times),
               "ratio_to_torch": round(summary([t / s for t, s in zip(torch_s, times)])["median"], 2)}
        for name, times in seconds.items()}
    return {"speed": speed, "quality": dense_hit_at_5(encoders) if quality else {"skipped": "--no-quality"}}


def run(docs: int = 20, repeats: int = 2, with_backends: bool = True, quality: bool = True) -> dict[str, Any]:
    """Measure; returns the results."""
    from baken.wiring import build_embedder

    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ingest-", dir=CACHE) as tmp:
        settings = bench_settings(Path(tmp) / "settings")
        embedder = build_embedder(settings)  # Baken's default backend (the catalogue's: OpenVINO int8)
        torch_settings = settings.model_copy(update={"embeddings": settings.embeddings.model_copy(
            update={"backend": "torch"})})
        model = build_embedder(torch_settings)._model  # the raw sentence-transformers model on torch
        files = corpus_files(docs)
        clock = Stopwatch()
        chunks = chunks_of(files, embedder, settings)
        chunking_s = clock.ms() / 1000
        model.encode([c.embed_text for c in chunks[:8]], show_progress_bar=False)  # warm-up
        baken, raw = [], []
        for r in range(repeats):
            for side in (("baken", "raw") if r % 2 == 0 else ("raw", "baken")):
                workdir = Path(tmp) / f"{side}-{r}"
                if side == "baken":
                    baken.append(baken_ingest(files, embedder, workdir))
                else:
                    raw.append(raw_ingest(chunks, model, settings.embeddings.batch_size, workdir))
        if baken[0]["chunks"] != len(chunks):
            raise RuntimeError(f"Baken made {baken[0]['chunks']} chunks, the raw side {len(chunks)}")
        out: dict[str, Any] = {"docs": len(files), "chunks": len(chunks), "repeats": repeats,
                               "parse_and_chunk_seconds": round(chunking_s, 2),
                               "files": [p.name for p in files]}
        for name, rows in (("baken", baken), ("raw", raw)):
            seconds = summary([row["seconds"] for row in rows])
            out[name] = {"seconds": seconds, "cpu_seconds": summary([row["cpu_seconds"] for row in rows]),
                         "docs_per_s": round(len(files) / seconds["median"], 2),
                         "chunks_per_s": round(len(chunks) / seconds["median"], 1)}
        out["ratio"] = round(out["baken"]["chunks_per_s"] / out["raw"]["chunks_per_s"], 3)
        out["cpu_ratio"] = round(out["raw"]["cpu_seconds"]["median"] / out["baken"]["cpu_seconds"]["median"], 3)
        out["target"] = {"ratio": RATIO_TARGET, "met": out["ratio"] >= RATIO_TARGET}
        out["sandbox"] = sandbox_overhead(files, repeats)
        if with_backends:
            out["backends"] = measure_backends(model, [c.embed_text for c in chunks], settings.embeddings.batch_size,
                                               max(repeats, 3), quality, settings)
        out["embedder"] = {"name": embedder.name, "class": type(embedder).__name__}
    return out


OCR_LINES = ["Gemeente Voorbeeld, afdeling Publiekszaken", "Besluit op het bezwaar tegen de afvalstoffenheffing",
             "Het college heeft uw bezwaarschrift van 3 maart 2026 ontvangen en beoordeeld.",
             "De heffing voor een meerpersoonshuishouden bedraagt 312 euro per jaar.",
             "U kunt binnen zes weken beroep instellen bij de rechtbank.", "Kwijtschelding is mogelijk."] * 4


def ocr_seconds_per_page(pages: int) -> dict[str, Any]:
    """A generated scan of ``pages`` A4 pages of 24 lines each, read through the sandboxed parser."""
    from ingestion.formats.limits import FormatLimits
    from ingestion.sandbox import SandboxedParser, SandboxLimits
    from tests.formats.files import scanned_pdf

    data = scanned_pdf([OCR_LINES] * pages)
    parser = SandboxedParser(SandboxLimits(seconds=600, cpu_seconds=600, formats=FormatLimits(ocr_max_pages=pages)))
    try:
        parser.parse(b"Warm-up.", "warm.txt")
        clock = Stopwatch()
        document = parser.parse(data, "scan.pdf")
        seconds = clock.ms() / 1000
    finally:
        parser.close()
    read = sum(line in document.sections[0].text for line in set(OCR_LINES))
    return {"pages": pages, "seconds": round(seconds, 2), "seconds_per_page": round(seconds / pages, 2),
            "lines_read_exactly_on_page_1": f"{read}/{len(set(OCR_LINES))}"}


def corpus_ingest() -> dict[str, Any]:
    """`baken ingest` of the whole shared corpus in a fresh data directory: seconds, documents, chunks,
    failures and the child's peak RSS."""
    import os
    import re
    import resource
    import subprocess

    from bench.common import MODELS_DIR
    from tests.paths import CORPUS

    files = [p for p in CORPUS.rglob("*") if p.is_file()]
    with tempfile.TemporaryDirectory(prefix="ingest-corpus-", dir=CACHE) as tmp:
        env = {**os.environ, "BAKEN_DATA_DIR": tmp, "BAKEN_MODELS_DIR": str(MODELS_DIR)}
        clock = Stopwatch()
        done = subprocess.run([str(Path(sys.executable).parent / "baken"), "ingest", "--quiet", str(CORPUS)], env=env,
                              capture_output=True, text=True, check=False)
        seconds = clock.ms() / 1000
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary_line = next((line for line in done.stdout.splitlines() if "documents indexed" in line), done.stdout)
    numbers = {key: int(value) for value, key in re.findall(r"(\d+) (failed|chunks|unchanged)", summary_line)}
    failures = [line for line in done.stderr.splitlines() if line.startswith("baken: ")]
    return {"files": len(files), "seconds": round(seconds, 1), "summary": summary_line.strip(),
            "chunks": numbers.get("chunks"), "failed": numbers.get("failed", len(failures)), "failures": failures,
            "exit": done.returncode, "peak_rss_mb": round(peak_mb)}


FORMAT_HEADERS = ["formats (issue 18)", "value"]


def format_rows(out: dict[str, Any]) -> list[list[Any]]:
    """The table rows of ``--formats``."""
    ocr, corpus = out["ocr"], out["corpus"]
    return [[f"OCR, s per page ({ocr['pages']} A4 pages, nld+eng, 200 dpi, sandboxed)", ocr["seconds_per_page"]],
            ["OCR, lines of page 1 read exactly", ocr["lines_read_exactly_on_page_1"]],
            [f"baken ingest of the shared corpus ({corpus['files']} files): seconds", corpus["seconds"]],
            ["… chunks / failures", f"{corpus['chunks']} / {corpus['failed']}"],
            ["… peak RSS of the process (MB)", corpus["peak_rss_mb"]]]


HEADERS = ["ingestion", "docs/s", "chunks/s", "median s (wall / CPU)", "ratio (wall / CPU)", "hit@5 (dense)",
           "target"]


def rows_of(out: dict[str, Any]) -> list[list[Any]]:
    """The table rows."""
    rows: list[list[Any]] = [
        [f"Baken Index.ingest_files ({out['docs']} docs, {out['chunks']} chunks)", out["baken"]["docs_per_s"],
         out["baken"]["chunks_per_s"], _pair(out["baken"]["seconds"]["median"], out["baken"]["cpu_seconds"]["median"]),
         _pair(out["ratio"], out["cpu_ratio"]), "", out["target"]["met"]],
        ["raw encode + collection.add", out["raw"]["docs_per_s"], out["raw"]["chunks_per_s"],
         _pair(out["raw"]["seconds"]["median"], out["raw"]["cpu_seconds"]["median"]), 1.0, "", ""],
    ]
    rows.append(["of which parse + chunk (Baken only, timed apart)", "", "", out["parse_and_chunk_seconds"], "", "",
                 ""])
    if box := out.get("sandbox"):
        rows.append([f"sandbox: worker start, once per process (ms, median of {box['start_ms']['n']})", "", "",
                     box["start_ms"]["median"], "", "", ""])
        rows.append([(f"sandbox: extra per file beside parsing in process (ms, median / p95 of "
                      f"{box['overhead_ms_per_file']['n']})"), "", "",
                     _pair(box["overhead_ms_per_file"]["median"], box["overhead_ms_per_file"]["p95"]), "", "", ""])
    backends_out = out.get("backends", {})
    torch_speed = backends_out.get("speed", {}).get("torch (Baken)", {}).get("chunks_per_s")
    quality = backends_out.get("quality", {})
    for name, row in backends_out.get("speed", {}).items():
        hit = quality.get(name, {}).get("hit@5", "–")
        rows.append([f"embed only: {name}", "", row["chunks_per_s"], row["seconds"]["median"],
                     row.get("ratio_to_torch") or (round(row["chunks_per_s"] / torch_speed, 2) if torch_speed else ""),
                     hit, ""])
    return rows


def _pair(a: float, b: float) -> str:
    return f"{fmt(a)} / {fmt(b)}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and write bench/results/ingest.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-backends", action="store_true", help="skip the ONNX/OpenVINO comparison")
    parser.add_argument("--no-quality", action="store_true", help="skip the hit@5 comparison of the backends")
    parser.add_argument("--formats", action="store_true", help="OCR s/page and the whole shared corpus instead")
    parser.add_argument("--ocr-pages", type=int, default=5)
    args = parser.parse_args(argv)
    if args.formats:
        CACHE.mkdir(parents=True, exist_ok=True)
        formats = {"ocr": ocr_seconds_per_page(args.ocr_pages), "corpus": corpus_ingest()}
        report("ingest-formats", "Formats: OCR and the whole shared corpus", FORMAT_HEADERS, format_rows(formats),
               formats)
        return 0
    out = run(args.docs, args.repeats, not args.no_backends, not args.no_quality)
    report("ingest", "Ingestion (Baken beside raw encode + add; embedding backends)", HEADERS, rows_of(out), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

