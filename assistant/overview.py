"""The overviews: what the information manager and the auditor see at a glance, every figure counted in the
audit log (`assistant.audit.figures`) for the collections the viewer may read, each opening itself logged.

The information manager's: questions per day by how they ended, the shares, the questions that found no
source (the gaps in the document set, redacted as the log holds them), feedback per day, and per collection
the documents cited most and never. The auditor's: outcomes and the redacted kinds of personal data per day,
the chain's last verification and checkpoints, the witness, and who read the log.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.audit import AuditLog, RecordQuery
from assistant.audit.figures import DEFAULT_COLLECTION, READINGS, FigureQuery, Gap
from assistant.audit.retention import format_time
from assistant.audit.witness import read_witness
from core.errors import UserError
from ingestion.index import Index

PERIODS = (7, 30, 90)  # the days a viewer may choose
DEFAULT_PERIOD = 30
# How a turn ended, as the overviews tell it: answered, answered by the evidence alone (the model's text
# withheld), no source found, or failed.
ENDINGS = ("answered", "withheld", "no_source", "failed")
RATINGS = ("useful", "not_useful")
TOP_DOCUMENTS = 10


@dataclass(frozen=True)
class Daily:
    """Counts per day of the period (every day, zeros included) and per series."""

    days: tuple[str, ...]
    series: tuple[str, ...]
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def count(self, day: str, key: str) -> int:
        """One day's count of one series."""
        return self.counts.get((day, key), 0)

    def day_total(self, day: str) -> int:
        """One day's count over every series."""
        return sum(self.count(day, key) for key in self.series)

    def total(self, key: str | None = None) -> int:
        """The period's count of one series, or of all."""
        return sum(n for (_, k), n in self.counts.items() if key is None or k == key)

    def share(self, key: str) -> float:
        """The series' share of the period's count (0 when there is none)."""
        whole = self.total()
        return self.total(key) / whole if whole else 0.0


@dataclass(frozen=True)
class DocumentFigure:
    """One document of a collection: the turns of the period that were given it and that cited it."""

    doc_id: str
    title: str
    given: int
    cited: int


@dataclass(frozen=True)
class CollectionFigures:
    """The documents of one readable collection cited most, and those never cited in the period."""

    name: str
    most_cited: list[DocumentFigure]
    never_cited: list[DocumentFigure]


@dataclass(frozen=True)
class ManagerOverview:
    """The information manager's overview of a period."""

    days: int
    since: str
    questions: Daily
    feedback: Daily
    gaps: list[Gap]
    collections: list[CollectionFigures]


@dataclass(frozen=True)
class Reader:
    """One auditor (a pseudonym, as the log holds it) and their readings of the log in the period."""

    actor: str
    counts: dict[str, int]
    last: str

    @property
    def total(self) -> int:
        """Every reading of this auditor."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class ChainStatus:
    """The last verification in the log (none yet: `verified` is None), and the checkpoints."""

    last_seq: int
    checkpoints: int
    last_checkpoint_seq: int | None
    last_checkpoint_time: str | None
    verified: str | None = None  # time of the last verification
    intact: bool | None = None
    verified_records: int | None = None
    first_bad_seq: int | None = None
    verified_by: str | None = None


@dataclass(frozen=True)
class WitnessStatus:
    """The witness directory as the settings name it: what it holds and how far it lags behind."""

    configured: bool
    witnessed: int = 0
    last_seq: int | None = None
    behind: bool = False  # the log has checkpoints after the witness's last
    problem: str | None = None  # the witness cannot be read


@dataclass(frozen=True)
class AuditorOverview:
    """The auditor's overview of a period."""

    days: int
    since: str
    outcomes: Daily
    redactions: Daily
    readings: Daily
    readers: list[Reader]
    chain: ChainStatus
    witness: WitnessStatus


def _ending(outcome: str, withheld: bool) -> str:
    if outcome == "answered":
        return "withheld" if withheld else "answered"
    return "no_source" if outcome == "no_source" else "failed"


def period_of(days: int) -> int:
    """The period a viewer asked for, or the default when it is not one of PERIODS."""
    return days if days in PERIODS else DEFAULT_PERIOD


class Overviews:
    """Builds both overviews from the audit log and the index (for document titles and collections)."""

    def __init__(self, audit: AuditLog, index: Index, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._audit = audit
        self._index = index
        self._clock = clock

    def _query(self, days: int, readable: frozenset[str]) -> tuple[FigureQuery, tuple[str, ...]]:
        """The period's query (from midnight UTC `days - 1` days ago) and its days, oldest first."""
        today = self._clock().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        first = today - timedelta(days=days - 1)
        dates = tuple((first + timedelta(days=n)).strftime("%Y-%m-%d") for n in range(days))
        self._audit.store.update_figures()
        return FigureQuery(since=format_time(first), readable=readable), dates

    def _outcomes(self, query: FigureQuery, dates: tuple[str, ...]) -> Daily:
        counts: Counter[tuple[str, str]] = Counter()
        for day, outcome, withheld, n in self._audit.store.turn_days(query):
            counts[(day, _ending(outcome, withheld))] += n
        return Daily(dates, ENDINGS, dict(counts))

    def manager(self, days: int, readable: frozenset[str], *, viewer: str, role: str) -> ManagerOverview:
        """The information manager's overview of the last `days` days; its opening is logged."""
        days = period_of(days)
        query, dates = self._query(days, readable)
        store = self._audit.store
        feedback = Daily(dates, RATINGS, {(day, rating): n for day, rating, n in store.feedback_days(query)
                                          if rating in RATINGS})
        overview = ManagerOverview(days, query.since, self._outcomes(query, dates), feedback, store.gaps(query),
                                   self._collections(query))
        self._audit.append("overview.view", actor=viewer, role=role, outcome="ok",
                           record={"baken.audit.request": {"overview": "manager", "days": days,
                                                           "collections": sorted(readable)}})
        return overview

    def _collections(self, query: FigureQuery) -> list[CollectionFigures]:
        """Per readable collection (those with documents or citations), its most and never cited documents."""
        counted = {(c.collection, c.doc_id): c for c in self._audit.store.document_counts(query)}
        documents: dict[str, dict[str, str]] = {}
        for doc in self._index.documents():
            if doc.collection in query.readable:
                documents.setdefault(doc.collection, {})[doc.doc_id] = doc.title or doc.name
        for collection, doc_id in counted:
            documents.setdefault(collection, {}).setdefault(doc_id, "")
        result = []
        for name in sorted(documents, key=lambda n: (n != DEFAULT_COLLECTION, n)):
            figures = [DocumentFigure(doc_id, title, counted[(name, doc_id)].given if (name, doc_id) in counted else 0,
                                      counted[(name, doc_id)].cited if (name, doc_id) in counted else 0)
                       for doc_id, title in documents[name].items()]
            cited = sorted((f for f in figures if f.cited), key=lambda f: (-f.cited, -f.given, f.title))
            never = sorted((f for f in figures if not f.cited and f.title), key=lambda f: (-f.given, f.title))
            result.append(CollectionFigures(name, cited[:TOP_DOCUMENTS], never))
        return result

    def auditor(self, days: int, readable: frozenset[str], *, auditor: str,
                witness: Path | None) -> AuditorOverview:
        """The auditor's overview of the last `days` days; its opening is logged first (it counts itself)."""
        days = period_of(days)
        self._audit.append("audit.overview", actor=auditor, role="auditor", outcome="ok",
                           record={"baken.audit.request": {"overview": "auditor", "days": days,
                                                           "collections": sorted(readable)}})
        query, dates = self._query(days, readable)
        store = self._audit.store
        redacted = store.redaction_days(query)
        kinds = Counter[str]()
        for _, kind, n in redacted:
            kinds[kind] += n
        readings: Counter[tuple[str, str]] = Counter()
        per_actor: dict[str, Counter[str]] = {}
        last: dict[str, str] = {}
        for day, actor, action, n, latest in store.reading_days(query):
            readings[(day, action)] += n
            per_actor.setdefault(actor, Counter())[action] += n
            last[actor] = max(last.get(actor, ""), latest)
        readers = sorted((Reader(actor, dict(counts), last[actor]) for actor, counts in per_actor.items()),
                         key=lambda r: (-r.total, r.actor))
        chain = self._chain()
        return AuditorOverview(days, query.since, self._outcomes(query, dates),
                               Daily(dates, tuple(k for k, _ in kinds.most_common()),
                                     {(day, kind): n for day, kind, n in redacted}),
                               Daily(dates, READINGS, dict(readings)), readers, chain,
                               self._witness(witness, chain.last_checkpoint_seq))

    def _chain(self) -> ChainStatus:
        """The checkpoints, and the last verification as the log recorded it (a full walk is the auditor's
        explicit action: it reads every record)."""
        store = self._audit.store
        last = store.last()
        checkpoints = store.checkpoints()
        newest = checkpoints[-1] if checkpoints else None
        status = ChainStatus(last[0] if last else 0, len(checkpoints), newest.seq if newest else None,
                             newest.time if newest else None)
        found = store.find(RecordQuery(action="audit.verify"), limit=1)
        if not found or found[0].record_json is None:
            return status
        record = json.loads(found[0].record_json)
        request = record.get("baken.audit.request") or {}
        return ChainStatus(status.last_seq, status.checkpoints, status.last_checkpoint_seq,
                           status.last_checkpoint_time, verified=found[0].time,
                           intact=record.get("outcome") == "intact", verified_records=request.get("records"),
                           first_bad_seq=request.get("first_bad_seq"), verified_by=found[0].actor)

    @staticmethod
    def _witness(directory: Path | None, last_checkpoint: int | None) -> WitnessStatus:
        if directory is None:
            return WitnessStatus(configured=False)
        try:
            witnessed, _ = read_witness(directory)
        except UserError as exc:
            return WitnessStatus(configured=True, problem=str(exc))
        last = max((cp.seq for cp in witnessed), default=None)
        behind = last_checkpoint is not None and (last is None or last < last_checkpoint)
        return WitnessStatus(configured=True, witnessed=len(witnessed), last_seq=last, behind=behind)

