"""Search: the ``k`` best chunks of ready documents, dense (cosine), lexical (BM25) or hybrid (both, fused by
weighted reciprocal rank), and the "has a source" thresholds (best cosine, best lexical coverage) per embedder.

Every search first brings this host's lexical index in step with the ready documents (`LexicalSync`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from ingestion.collection import OPEN
from ingestion.embedder import Embedder
from ingestion.lexical import LexicalHit, LexicalIndex
from ingestion.lexical_sync import LexicalSync
from ingestion.registry import Registry
from ingestion.settings import RetrievalSettings
from ingestion.source import Source
from ingestion.store import StoredHit, VectorStore

# The "no source" thresholds per embedder, (min cosine, min lexical coverage), calibrated together with the
# answer path's third signal (the evidence, BAKEN_ANSWER__MIN_EVIDENCE) on bench/answers.jsonl and
# bench/questions.jsonl over ../shared/corpus and the demo corpus by `python -m bench.eval --answers`, for the
# fewest errors; settings override them.
CALIBRATED: dict[str, tuple[float, float]] = {"all-minilm-l6-v2": (0.71, 0.40)}
UNCALIBRATED = (0.25, 0.5)
COVERAGE_HITS = 5  # lexical hits whose coverage counts
DEEPER = 4  # how much deeper an unfiltered dense query goes before the collection filter is asked of the store


@dataclass(frozen=True)
class Retrieval:
    """What a search found: the chunks, and the question's best dense cosine and best lexical coverage."""

    hits: list[Source]
    cosine: float
    coverage: float

    def relevant(self, min_score: float, min_coverage: float) -> bool:
        """True when either signal reaches its threshold (the question has a source)."""
        return self.cosine >= min_score or self.coverage >= min_coverage


class Search:
    """Retrieval over the ready documents of the registry, from the vector store and the lexical index."""

    def __init__(self, embedder: Embedder, store: VectorStore, registry: Registry, lexical: LexicalIndex,
                 sync: LexicalSync, retrieval: RetrievalSettings) -> None:
        self.embedder = embedder
        self._store = store
        self._registry = registry
        self._lexical = lexical
        self._sync = sync
        self.retrieval = retrieval

    def search(self, query: str, k: int, min_score: float | None = None, mode: str | None = None,
               collections: Collection[str] | None = None) -> list[Source]:
        """The ``k`` best chunks of ready documents (in ``collections``), or none when the question is not
        relevant enough.

        ``min_score`` is a cosine similarity. Dense mode keeps the chunks that reach it. Hybrid mode asks
        it of the question as a whole: the question has no source unless its best dense chunk reaches it
        or one of its best BM25 matches covers at least ``min_coverage`` of it (IDF-weighted share of its
        words); if it has, the fused top ``k`` are returned whatever their own cosine. Lexical mode (for
        evaluation) ignores it. ``min_score`` None (and the settings) default to the embedder's calibrated
        thresholds (`CALIBRATED`); ``mode`` defaults to the retrieval setting.
        """
        mode = mode or self.retrieval.mode
        min_score, min_coverage = self.thresholds(min_score)
        found = self.retrieve(query, k, mode, collections)
        if mode == "dense":
            return [h for h in found.hits if h.score >= min_score]
        if mode == "hybrid" and not found.relevant(min_score, min_coverage):
            return []
        return found.hits


    def retrieve(self, query: str, k: int, mode: str | None = None,
                 collections: Collection[str] | None = None) -> Retrieval:
        """The ``k`` best chunks of ready documents with the two "has a source" signals, whatever their values
        (the caller decides with `Retrieval.relevant`, possibly with signals of its own).

        ``collections`` are the ones the reader may read (None: every one, for the operator's own tools). Both
        retrievers filter inside their query: Chroma by the chunks' `collection`, BM25 by a mask of the
        allowed documents; and every hit is checked against the registry, which is what a move changes first.

        A document replaced while the search runs may have had its old chunks removed after the registry was
        read: a search that then finds nothing, with the registry changed meanwhile, runs once more.
        """
        mode = mode or self.retrieval.mode
        ready_in = self._registry.ready_collections()
        found = self._retrieve(query, k, mode, collections, ready_in)
        if not found.hits and (again := self._registry.ready_collections()) != ready_in:
            found = self._retrieve(query, k, mode, collections, again)
        return found

    def _retrieve(self, query: str, k: int, mode: str, collections: Collection[str] | None,
                  ready_in: dict[str, str]) -> Retrieval:
        self._sync.catch_up(set(ready_in))
        ready = set(ready_in) if collections is None else {d for d, c in ready_in.items() if c in collections}
        wanted = max(k, self.retrieval.candidates)
        dense: list[StoredHit] = []
        if mode in ("dense", "hybrid") and ready:
            vector = self.embedder.embed_query(query)
            dense = self._dense(vector, wanted, ready, collections, len(ready) < len(ready_in))
        cosine = dense[0].score if dense else -1.0
        if mode == "dense":
            return Retrieval([_hit(s, s.score, s.score, ready_in) for s in dense][:k], cosine, 0.0)
        lexical = self._lexical.search(query, wanted, ready) if ready else []
        if mode == "lexical":
            scores = {h.chunk_id: h.score for h in lexical[:k]}
            hits = sorted((_hit(s, scores[s.id], None, ready_in) for s in self._store.get(list(scores))),
                          key=lambda h: -h.score)
            return Retrieval(hits, cosine, _coverage(lexical))
        return Retrieval(self._fuse(dense, [h.chunk_id for h in lexical], k, ready_in), cosine, _coverage(lexical))

    def _dense(self, vector: list[float], wanted: int, ready: set[str], collections: Collection[str] | None,
               restricted: bool) -> list[StoredHit]:
        """The ``wanted`` nearest chunks of the ``ready`` documents.

        Chroma's `where` costs far more than the search itself when many chunks pass it (bench.retrieval, 100,000
        chunks: 5 ms unfiltered; with `where`, 650 ms when 90% pass and 240 ms, recall 0.85, when 10% do). So
        the nearest chunks are asked for without it, and kept when their document is readable: if that leaves
        ``wanted``, they are the nearest readable ones. A reader for whom too few of them are readable is
        asked again deeper (DEEPER times), and only then with `where`, which finds ``wanted`` among theirs
        however rare.
        """
        def readable(found: list[StoredHit]) -> list[StoredHit]:
            return [s for s in found if s.metadata.get("doc_id") in ready][:wanted]

        hits = readable(self._store.query(vector, wanted * 2))
        if restricted and len(hits) < wanted:
            hits = readable(self._store.query(vector, wanted * 2 * DEEPER))
        if restricted and len(hits) < wanted:
            hits = readable(self._store.query(vector, wanted * 2, collections))
        return hits

    def word_weights(self, words: Iterable[str]) -> dict[str, float]:
        """The IDF weight of each word in the lexical index (rare words weigh most), for evidence and checks."""
        return self._lexical.weights(words)


    def thresholds(self, min_score: float | None = None) -> tuple[float, float]:
        """The (cosine, coverage) relevance thresholds in force: the argument or settings, else calibrated."""
        calibrated = CALIBRATED.get(self.embedder.name, UNCALIBRATED)
        cosine = min_score if min_score is not None else self.retrieval.min_score
        coverage = self.retrieval.min_coverage
        return (calibrated[0] if cosine is None else cosine, calibrated[1] if coverage is None else coverage)


    def relevance(self, query: str, collections: Collection[str] | None = None) -> tuple[float, float]:
        """The two "has a source" signals of a question: best dense cosine and best lexical coverage."""
        found = self.retrieve(query, COVERAGE_HITS, "hybrid", collections)
        return found.cosine, found.coverage


    def _fuse(self, dense: list[StoredHit], lexical: list[str], k: int, ready_in: dict[str, str]) -> list[Source]:
        """Weighted reciprocal rank fusion, scaled so that first in both lists scores 1.0."""
        rrf, weight = self.retrieval.rrf_k, self.retrieval.lexical_weight
        fused: dict[str, float] = {}
        for rank, stored in enumerate(dense, start=1):
            fused[stored.id] = fused.get(stored.id, 0.0) + 1.0 / (rrf + rank)
        for rank, chunk_id in enumerate(lexical, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (rrf + rank)
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        top = (1.0 + weight) / (rrf + 1)
        known = {s.id: s for s in dense}
        missing = {s.id: s for s in self._store.get([i for i in best if i not in known])}
        return [_hit(known.get(i) or missing[i], fused[i] / top, known[i].score if i in known else None, ready_in)
                for i in best if i in known or i in missing]


def _hit(stored: StoredHit, score: float, cosine: float | None, ready_in: dict[str, str]) -> Source:
    meta = stored.metadata
    doc_id = str(meta["doc_id"])
    return Source(chunk_id=stored.id, doc_id=doc_id, document=str(meta.get("source", "")),
                  title=str(meta.get("title", "")), heading=str(meta.get("heading", "")),
                  page=int(meta.get("page") or 0) or None, score=round(score, 4), text=stored.text,
                  cosine=None if cosine is None else round(cosine, 4), collection=ready_in.get(doc_id, OPEN))



def _coverage(lexical: list[LexicalHit]) -> float:
    """The best share of the question that one of its top lexical hits covers."""
    return max((h.coverage for h in lexical[:COVERAGE_HITS]), default=0.0)
