"""What every benchmark shares: offline environment, settings on the provisioned models, statistics, a table
printer and the JSON writer (bench/results/<name>.json)."""

from __future__ import annotations

import os

from core.offline import go_offline

go_offline()

import json
import math
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "data" / "bench"
MODELS_DIR = Path(os.environ.get("BAKEN_MODELS_DIR", ROOT / "data" / "models"))


def bench_settings(data_dir: Path, **sections: dict[str, Any]) -> Any:
    """Settings on the provisioned models with everything written under ``data_dir``; ``sections`` override
    nested sections, e.g. ``llm={"max_tokens": 64}``."""
    from baken.settings import Settings

    return Settings(data_dir=data_dir, models_dir=MODELS_DIR, **sections)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, p95, min and count of ``values``, rounded for a table."""
    if not values:
        return {"median": float("nan"), "p95": float("nan"), "min": float("nan"), "n": 0}
    return {"median": round(statistics.median(values), 3), "p95": round(percentile(values, 0.95), 3),
            "min": round(min(values), 3), "n": len(values)}


def ratio(a: float, b: float) -> float:
    """a / b, rounded (nan when b is zero)."""
    return round(a / b, 3) if b else float("nan")


class Stopwatch:
    """Milliseconds since it was made (``ms()``) or since the last ``lap()``."""

    def __init__(self) -> None:
        self.start = self._last = time.perf_counter()

    def ms(self) -> float:
        """Milliseconds since start."""
        return (time.perf_counter() - self.start) * 1000

    def lap(self) -> float:
        """Milliseconds since the previous lap (or start)."""
        now = time.perf_counter()
        elapsed, self._last = (now - self._last) * 1000, now
        return elapsed


def fmt(value: Any) -> str:
    """A table cell: floats with sensible precision, booleans as met/MISSED."""
    if isinstance(value, bool):
        return "met" if value else "MISSED"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}


def write_results(name: str, data: dict[str, Any], rows: Sequence[Sequence[Any]] | None = None,
                  headers: Sequence[str] | None = None) -> Path:
    """Write bench/results/<name>.json (with the machine and, when given, the printed table's rows)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"bench": name, "machine": machine(), **data}
    if rows is not None and headers is not None:
        payload["table"] = {"headers": list(headers), "rows": [[fmt(c) for c in r] for r in rows]}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path


def report(name: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
           data: dict[str, Any]) -> None:
    """Print the table and write the JSON results."""
    print(f"\n## {title}\n")
    print(table(headers, rows))
    path = write_results(name, data, rows, headers)
    print(f"\nwritten to {path.relative_to(ROOT)}")
