"""The API gateway's overhead: the same chat completion sent straight to a model server and through Baken's
`/v1` (model `baken-guarded`: key check, rate count, redaction, two audit records, restore), with the official
`openai` client, streamed and not (the fake model server always streams, as Baken asks it to: the direct call is
streamed). The model server is the fake one (a fixed delay per word), so the difference
is Baken's own time; the ratio is gateway / direct on the whole turn. Targets: ratio <= 1.05, <= 50 ms.

    python -m bench.gateway [--rounds 20] [--words 40] [--delay-ms 20]

Also times the full `baken` turn (retrieval, evidence, check) for reference: that is not overhead but the work.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ratio, report, summary
from bench.fake_model import FakeModelServer
from bench.load import BakenServer

TARGET_RATIO = 1.05
TARGET_MS = 50.0
QUESTION = "Mijn collega Jan Jansen vraagt het volgende. Herhaal: "


def _timed(call: Any) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _streamed(client: Any, model: str, content: str) -> str:
    return "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model=model, stream=True, messages=[{"role": "user", "content": content}]) if c.choices)


def _plain(client: Any, model: str, content: str) -> str:
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": content}]) \
        .choices[0].message.content or ""


def run(rounds: int = 20, words: int = 40, delay_ms: float = 20.0, data_dir: Path | None = None) -> dict[str, Any]:
    """Time ``rounds`` completions of ``words`` words each way (interleaved, after a warm-up round)."""
    import openai

    root = data_dir or Path(tempfile.mkdtemp(prefix="baken-bench-gateway-"))
    content = QUESTION + " ".join(f"woord{n}" for n in range(words))
    with FakeModelServer(delay_s=delay_ms / 1000) as model:
        server = BakenServer(root / "data", model.url, workers=1, log=root / "serve.log")
        server.start()
        try:
            added = server.baken("apikeys", "add", "bench", "--owner", "bench", "--purpose", "overhead",
                                 "--rate", "100000/min")
            if added.returncode != 0:
                raise RuntimeError(added.stderr)
            gateway = openai.OpenAI(base_url=f"{server.url}/v1", api_key=added.stdout.split()[-1], max_retries=0)
            direct = openai.OpenAI(base_url=model.url, api_key="unused", max_retries=0)
            times: dict[str, list[float]] = {k: [] for k in ("direct", "gateway_stream", "gateway_plain",
                                                             "baken_turn")}
            for n in range(rounds + 1):
                sample = {
                    "direct": _timed(lambda: _streamed(direct, "fake-model", content)),
                    "gateway_stream": _timed(lambda: _streamed(gateway, "baken-guarded", content)),
                    "gateway_plain": _timed(lambda: _plain(gateway, "baken-guarded", content)),
                    "baken_turn": _timed(lambda: _plain(gateway, "baken",
                                                        "Hoeveel dagen per week mag ik thuiswerken?")),
                }
                if n:  # the first round warms the caches and connections
                    for name, ms in sample.items():
                        times[name].append(ms)
        finally:
            server.stop()
    out: dict[str, Any] = {"rounds": rounds, "words": words, "delay_ms": delay_ms,
                           **{name: summary(values) for name, values in times.items()}}
    for kind in ("stream", "plain"):
        direct_ms, gateway_ms = out["direct"]["median"], out[f"gateway_{kind}"]["median"]
        out[f"ratio_{kind}"] = ratio(gateway_ms, direct_ms)
        out[f"overhead_ms_{kind}"] = round(gateway_ms - direct_ms, 1)
        out[f"met_{kind}"] = out[f"ratio_{kind}"] <= TARGET_RATIO and out[f"overhead_ms_{kind}"] <= TARGET_MS
    return out


def main() -> None:
    """Run the benchmark and write bench/results/gateway.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--words", type=int, default=40, help="words of each answer")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="the model server's delay per word")
    args = parser.parse_args()
    out = run(args.rounds, args.words, args.delay_ms)
    rows = [[kind, out["direct"]["median"], out[f"gateway_{kind}"]["median"], out[f"ratio_{kind}"],
             out[f"overhead_ms_{kind}"], out[f"met_{kind}"]] for kind in ("stream", "plain")]
    rows.append(["baken turn (reference)", "–", out["baken_turn"]["median"], "–", "–", "–"])
    report("gateway", f"API gateway overhead ({args.words} words at {args.delay_ms:g} ms a word, median of "
           f"{args.rounds})", ["call", "direct ms", "gateway ms", "ratio", "overhead ms",
                               f"≤ {TARGET_RATIO} and ≤ {TARGET_MS:g} ms"], rows, out)


if __name__ == "__main__":
    main()
