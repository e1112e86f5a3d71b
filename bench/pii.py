"""Benchmark of the PII stage: ms per 1,000 characters, beside raw Presidio `analyze` on the same texts, per
variant of the questions (as generated, lower case, capitals, no punctuation) and per setting (typed, document).

Run from the repository root: `.venv/bin/python -m bench.pii`. Writes bench/results/pii.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "guardrails"))

from pii_evaluation import VARIANTS, pages, samples, variant

from core.language import looks_english
from guardrails import PiiSettings, Redactor, Vault
from guardrails.normalise import normalise
from models.catalogue import CATALOGUE
from models.provision import provision

RESULTS = ROOT / "bench" / "results" / "pii.json"


def _questions(language: str, variant_name: str = "as generated", size: int = 1000) -> list[str]:
    """Generated sentences of one language, in one variant, joined into texts of about ``size`` characters."""
    texts, current = [], ""
    for sample in samples():
        if sample.language != language:
            continue
        current += variant(sample, variant_name).text + " "
        if len(current) >= size:
            texts.append(current.strip())
            current = ""
    return texts


_PLAIN_ENGLISH = [
    "Can you summarise the policy on remote work for new employees and list the main obligations?",
    "What does the algorithm register require us to publish about a risk model used for benefits?",
    "Please draft a short answer explaining how long we keep camera footage and who may see it.",
    "Which steps must a department take before it buys an AI system that makes decisions about people?",
    "How should we document the data sources and the human oversight of a fraud detection model?",
]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _measure(redactor: Redactor, texts: list[str], repeats: int, kind: str = "typed"
             ) -> tuple[list[float], list[float]]:
    """ms per 1,000 characters of every run: the whole PII stage, and raw Presidio on the same languages."""
    stage, raw = [], []
    for text in texts:
        english = looks_english(normalise(text).text)
        languages = ["nl", "en"] if english else ["nl"]
        for _ in range(repeats):
            started = time.perf_counter()
            redactor.redact(text, Vault(), kind=kind)  # type: ignore[arg-type]
            stage.append((time.perf_counter() - started) * 1000 * 1000 / len(text))
            started = time.perf_counter()
            for language in languages:
                redactor.engine.analyze_raw(text, language, kind)
            raw.append((time.perf_counter() - started) * 1000 * 1000 / len(text))
    return stage, raw


def _summary(texts: list[str], stage: list[float], raw: list[float]) -> dict[str, float]:
    return {
        "texts": len(texts), "chars": sum(len(t) for t in texts),
        "stage_median": statistics.median(stage), "stage_p95": _percentile(stage, 0.95),
        "presidio_median": statistics.median(raw), "presidio_p95": _percentile(raw, 0.95),
        "ratio_median": statistics.median(stage) / statistics.median(raw),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a table and write the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m bench.pii", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="runs per text (default 3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as models_dir:
        provision(CATALOGUE["en-core-web-sm"], Path(models_dir))
        started = time.perf_counter()
        redactor = Redactor(PiiSettings(), Path(models_dir))
        startup = time.perf_counter() - started
        redactor.redact("Opwarmen: Jan de Vries, BSN 111222333. Please call John Smith.", Vault())
        groups: dict[str, tuple[list[str], str]] = {
            "Dutch policy pages, document setting": (pages(), "document"),
            "Dutch policy pages, typed setting": (pages(), "typed"),
        }
        for name in VARIANTS:
            groups[f"Dutch questions, {name}"] = (_questions("nl", name), "typed")
        for name in VARIANTS:
            groups[f"English questions, {name}"] = (_questions("en", name), "typed")
        groups["English questions without names"] = (
            [" ".join(_PLAIN_ENGLISH[i:] + _PLAIN_ENGLISH[:i]) for i in range(5)], "typed")
        results = {}
        every: tuple[list[str], list[float], list[float]] = ([], [], [])
        for name, (texts, kind) in groups.items():
            stage, raw = _measure(redactor, texts, args.repeats, kind)
            results[name] = _summary(texts, stage, raw)
            every[0].extend(texts)
            every[1].extend(stage)
            every[2].extend(raw)
        results["all"] = _summary(*every)
    print(f"engine start-up: {startup:.1f} s; ms per 1,000 characters, {args.repeats} runs per text")
    print(f"{'texts':<42}{'n':>4} {'stage med':>10}{'p95':>8} {'presidio med':>13}{'p95':>8} {'ratio':>6}")
    for name, row in results.items():
        print(f"{name:<42}{row['texts']:>4} {row['stage_median']:>10.2f}{row['stage_p95']:>8.2f} "
              f"{row['presidio_median']:>13.2f}{row['presidio_p95']:>8.2f} {row['ratio_median']:>6.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"startup_seconds": startup, "unit": "ms per 1,000 characters",
                                   "groups": results}, indent=2), encoding="utf-8")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
