"""`baken index status` and `baken index reembed --model NAME [--backend B]`."""

from __future__ import annotations

import argparse
import sys

from baken.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the index commands."""
    index = subparsers.add_parser("index", help="the vector index: its embedder, re-embedding")
    actions = index.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("status", help="the embedder the index was built with, its chunks and generations"
                       ).set_defaults(handler=run_status)
    reembed = actions.add_parser(
        "reembed", help="embed every chunk again with another model, beside the index in use; switch when complete")
    reembed.add_argument("--model", required=True,
                         help="the new embedder: a catalogue name, a model directory, or the served model's name"
                              " with --backend remote")
    reembed.add_argument("--backend", choices=("torch", "openvino", "openvino-int8", "remote"),
                         help="how the new model runs (default: BAKEN_EMBEDDINGS__BACKEND, else the catalogue's)")
    reembed.add_argument("--batch", type=int, default=256, help="chunks read and embedded at a time")
    reembed.add_argument("--quiet", action="store_true", help="no progress bar")
    reembed.set_defaults(handler=run_reembed)


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    """Print the recorded embedder, the chunk count and the generations of the index."""
    from baken.wiring import build_store

    store = build_store(settings)
    record = store.embedder()
    print(f"embedder     {record.name} ({record.dimension} dimensies)" if record else
          "embedder     niet vastgelegd (een index van voor deze versie, of nog leeg)")
    print(f"ingesteld    {settings.embeddings.model}")
    print(f"chunks       {store.count()}")
    for label, name in store.generations().items():
        print(f"{label:12s} {name}")
    return 0


def run_reembed(args: argparse.Namespace, settings: Settings) -> int:
    """Re-embed the index into ``--model``; the index in use keeps serving until the new one is complete."""
    from tqdm import tqdm

    from baken.wiring import build_embedder, build_store
    from ingestion.reembed import record_of, reembed

    update: dict[str, object] = {"model": args.model}
    if args.backend:
        update["backend"] = args.backend
    target = settings.model_copy(update={"embeddings": settings.embeddings.model_copy(update=update)})
    store = build_store(settings)
    embedder = build_embedder(target)
    if store.embedder() == record_of(embedder) and "staging" not in store.generations():
        print(f"de index is al gebouwd met {embedder.name}; er is niets om te doen")
        return 0
    bar = tqdm(total=store.count(), unit="chunk", disable=args.quiet, file=sys.stderr, dynamic_ncols=True,
               desc=f"reembed {embedder.name}")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        result = reembed(store, embedder, progress, batch_size=args.batch)
    finally:
        bar.close()
    resumed = f", {result.resumed} van een eerdere, afgebroken run" if result.resumed else ""
    print(f"{result.chunks} chunks ingebed met {embedder.name} ({result.embedded} nu{resumed}); de index gebruikt"
          f" nu {result.active} (de vorige, {result.replaced}, blijft tot de volgende reembed bewaard)")
    print(f"zet BAKEN_EMBEDDINGS__MODEL={args.model}"
          + (f" en BAKEN_EMBEDDINGS__BACKEND={args.backend}" if args.backend else "")
          + " en start de server opnieuw: een proces met het oude model weigert de nieuwe index")
    return 0
