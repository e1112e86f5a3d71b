"""The overviews' figures, counted inside the audit store: one GROUP BY per figure over small derived tables
(a row per turn, feedback and reading; a row per source and per redaction), so that a log of 100,000 records
answers in a fraction of a second instead of every record's JSON being parsed for every overview.

Both stores run the same statements. A turn counts for a viewer only when every source it was given lies in a
collection the viewer may read (a source without a collection is in `algemeen`); its row carries the set of
those collections as one key (`collections`: sorted, comma-joined, empty for a turn without sources), and a
query counts the keys the viewer may read, so that no query looks into a turn's sources. A document counts only
in a readable collection. Days are UTC days, the log's own time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from core.database import Connection

TURN, FEEDBACK = "conversation.turn", "feedback.given"
DEFAULT_COLLECTION = "algemeen"
# The auditors' own readings of the log, as AuditLog and the overview route record them.
READINGS = ("audit.search", "audit.view", "audit.export", "audit.verify", "audit.overview")
END_OF_TIME = "9999-12-31T23:59:59.999999Z"
CATCH_UP_BATCH = 1000
ROWS_PER_LOOKUP = 400  # turn seqs per IN (...) when feedback looks up its turns
ANALYZE_AFTER = 10_000  # records added at once

# The figure tables of both stores (in SQLite's words; PostgreSQL's through `postgres_ddl`). Derived rows, not part of
# the chain: `update_figures` fills them from the records, a metadata purge deletes them with the metadata, and
# a copied log (which does not carry them) fills them again on its first update.
FIGURE_TABLES = (
    ("CREATE TABLE IF NOT EXISTS figure_records (seq INTEGER PRIMARY KEY, day TEXT NOT NULL, time TEXT NOT NULL,"
    " action TEXT NOT NULL, actor TEXT, outcome TEXT, withheld INTEGER NOT NULL, rating TEXT,"
    " collections TEXT NOT NULL)"),
    # Covering, in GROUP BY order: a figure reads the index alone.
    "CREATE INDEX IF NOT EXISTS figure_records_day ON figure_records(action, day, outcome, withheld, collections)",
    "CREATE INDEX IF NOT EXISTS figure_records_collections ON figure_records(collections)",
    ("CREATE TABLE IF NOT EXISTS figure_sources (seq INTEGER NOT NULL, n INTEGER NOT NULL, day TEXT NOT NULL,"
    " doc_id TEXT NOT NULL, collection TEXT NOT NULL, cited INTEGER NOT NULL, PRIMARY KEY (seq, n))"),
    "CREATE INDEX IF NOT EXISTS figure_sources_document ON figure_sources(collection, doc_id, day, cited)",
    ("CREATE TABLE IF NOT EXISTS figure_redactions (seq INTEGER NOT NULL, n INTEGER NOT NULL, day TEXT NOT NULL,"
    " type TEXT NOT NULL, collections TEXT NOT NULL, PRIMARY KEY (seq, n))"),
    "CREATE INDEX IF NOT EXISTS figure_redactions_day ON figure_redactions(day, type, collections)",
    "CREATE TABLE IF NOT EXISTS figure_progress (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL)",
)
# Migration 3 made these tables by time; 4 drops whatever 3 made and makes them by day (their rows are derived:
# `update_figures` refills them), so 3 has no statements of its own any more.
FIGURE_MIGRATIONS = ((3, "figure tables for the overviews"), (4, "figure tables counted by day"))
FIGURE_STATEMENTS: dict[int, tuple[str, ...]] = {
    3: (),
    4: (*(f"DROP TABLE IF EXISTS {table}" for table in ("figure_records", "figure_sources", "figure_redactions",
                                                         "figure_progress")), *FIGURE_TABLES),
}
FIGURE_COLUMNS = {
    "figure_records": ("seq", "day", "time", "action", "actor", "outcome", "withheld", "rating", "collections"),
    "figure_sources": ("seq", "n", "day", "doc_id", "collection", "cited"),
    "figure_redactions": ("seq", "n", "day", "type", "collections"),
}


@dataclass(frozen=True)
class FigureQuery:
    """The period in whole UTC days (ISO-8601 dates or times: the day of `since` on, before the day of `until`)
    and the collections the viewer may read."""

    since: str
    until: str | None = None
    readable: frozenset[str] = frozenset({DEFAULT_COLLECTION})


@dataclass(frozen=True)
class DocumentCount:
    """How many turns of the period were given a document, and how many cited it."""

    doc_id: str
    collection: str
    given: int
    cited: int


@dataclass(frozen=True)
class Gap:
    """A (redacted) question that found no source: how often it was asked, and when last."""

    question: str
    count: int
    last: str


@dataclass
class Facts:
    """The figure rows of a batch of records, per table."""

    rows: dict[str, list[tuple[Any, ...]]]

    @classmethod
    def empty(cls) -> Facts:
        return cls({table: [] for table in FIGURE_COLUMNS})


def add_facts(facts: Facts, seq: int, time: str, action: str, actor: str | None, outcome: str | None,
              record_json: str | None, turn_keys: dict[int, str]) -> None:
    """Add the figure rows of one record (none for a record whose metadata is purged or that no figure counts);
    `turn_keys` gives a turn's collections key by seq, for the feedback on it (and learns each turn's)."""
    if record_json is None or (action not in (TURN, FEEDBACK) and action not in READINGS):
        return
    try:
        record = json.loads(record_json)
    except ValueError:
        return
    if not isinstance(record, dict):
        return
    sources = _list(record.get("baken.sources")) if action == TURN else []
    collections = [_text(s.get("collection")) or DEFAULT_COLLECTION for s in sources]
    key = ",".join(sorted(set(collections)))
    if action == TURN:
        turn_keys[seq] = key
    elif action == FEEDBACK:
        turn = record.get("baken.feedback.turn_seq")
        key = turn_keys.get(turn, "") if isinstance(turn, int) else ""
    day = time[:10]
    facts.rows["figure_records"].append((seq, day, time, action, actor, outcome,
                                         1 if record.get("baken.withheld") is True else 0,
                                         _text(record.get("baken.feedback.rating")), key))
    documents: dict[tuple[str, str], int] = {}  # one row per document of the turn, however many chunks
    for source, collection in zip(sources, collections, strict=True):
        document = (_text(source.get("doc_id")) or "", collection)
        documents[document] = max(documents.get(document, 0), 1 if source.get("cited") is True else 0)
    facts.rows["figure_sources"] += [(seq, n, day, doc, collection, cited)
                                     for n, ((doc, collection), cited) in enumerate(documents.items())]
    if action == TURN:
        facts.rows["figure_redactions"] += [(seq, n, day, _text(r.get("type")) or "", key)
                                            for n, r in enumerate(_list(record.get("baken.redactions")))]


def _turn_seq(record_json: str | None) -> int:
    """The turn a feedback record is on (0: none or unreadable)."""
    try:
        seq = json.loads(record_json or "{}").get("baken.feedback.turn_seq")
    except (ValueError, AttributeError):
        return 0
    return seq if isinstance(seq, int) else 0


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def readable_key(key: str, readable: frozenset[str]) -> bool:
    """True when every collection of a turn's key is readable (a turn without sources always is)."""
    return all(c in readable for c in key.split(",") if c)


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


class FigureQueries:
    """The figure queries, in SQL both dialects share (`?` placeholders, over each store's `_read` and
    `_write`); `QUESTION` is the one dialect-specific expression, the question of a content row `c`."""

    QUESTION: str

    def _write(self, work: Any) -> Any:
        raise NotImplementedError

    def _read(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def update_figures(self, batch: int = CATCH_UP_BATCH) -> int:
        """Add the figure rows of every record appended since the last update, `batch` records at a time;
        returns the records read. The records are read and parsed outside the write lock, so appends wait
        only for the short write of each batch's rows."""
        total = 0
        while True:
            read = self._catch_up(batch)
            total += read
            if read < batch:
                break
        if total >= ANALYZE_AFTER:  # fresh statistics, or the planner guesses for tables that grew at once
            self._write(lambda conn: [conn.execute(f"ANALYZE {table}") for table in FIGURE_COLUMNS])
        return total

    def _catch_up(self, batch: int) -> int:
        progress = self._read("SELECT seq FROM figure_progress WHERE id = 1")
        after = int(progress[0][0]) if progress else 0
        records = self._read("SELECT seq, time, action, actor, outcome, record_json FROM records WHERE seq > ?"
                             " ORDER BY seq LIMIT ?", (after, batch))
        if not records:
            return 0
        wanted = sorted({_turn_seq(r[5]) for r in records if r[2] == FEEDBACK} - {0})
        turn_keys: dict[int, str] = {}
        for first in range(0, len(wanted), ROWS_PER_LOOKUP):  # the turns that feedback of this batch is on
            part = wanted[first:first + ROWS_PER_LOOKUP]
            turn_keys.update((int(seq), str(key)) for seq, key in self._read(
                f"SELECT seq, collections FROM figure_records WHERE seq IN ({_marks(part)})", tuple(part)))
        facts = Facts.empty()
        for record in records:
            seq, time, action, actor, outcome, record_json = record
            add_facts(facts, int(seq), str(time), str(action), actor, outcome, record_json, turn_keys)
        self._write(lambda conn: self._store_facts(conn, facts, int(records[0][0]), int(records[-1][0])))
        return len(records)

    @staticmethod
    def _store_facts(conn: Connection, facts: Facts, first: int, last: int) -> None:
        """Inside the write lock: the batch's rows, but none of a record a purge emptied since it was read."""
        purged = {int(seq) for (seq,) in conn.execute("SELECT seq FROM records WHERE seq >= ? AND seq <= ?"
                                                      " AND record_json IS NULL", (first, last)).fetchall()}
        for table, rows in facts.rows.items():  # one statement each, many rows (psycopg pipelines them)
            columns = FIGURE_COLUMNS[table]
            conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_marks(columns)})"
                             " ON CONFLICT DO NOTHING", [row for row in rows if row[0] not in purged])
        # Never backwards: two processes may update at once (their rows are the same, the conflicts ignored).
        conn.execute("INSERT INTO figure_progress (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE"
                     " SET seq = CASE WHEN excluded.seq > figure_progress.seq THEN excluded.seq"
                     " ELSE figure_progress.seq END", (last,))

    def _keys(self, readable: frozenset[str]) -> list[str]:
        """The collections keys the viewer may read, of those the log holds."""
        rows = self._read("SELECT DISTINCT collections FROM figure_records")
        return sorted(str(key) for (key,) in rows if readable_key(str(key), readable))

    PERIOD = "day >= ? AND day < ?"

    @staticmethod
    def _period(query: FigureQuery) -> tuple[str, str]:
        """The period's first day and the day after its last (the figures count whole UTC days)."""
        return query.since[:10], (query.until or END_OF_TIME)[:10]

    def turn_days(self, query: FigureQuery) -> list[tuple[str, str, bool, int]]:
        """(day, outcome, withheld, turns) of the visible turns of the period."""
        keys = self._keys(query.readable)
        rows = self._read("SELECT day, COALESCE(outcome, ''), withheld, COUNT(*) FROM figure_records"
                          f" WHERE action = ? AND {self.PERIOD} AND collections IN ({_marks(keys)})"
                          " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", (TURN, *self._period(query), *keys)) if keys else []
        return [(str(day), str(outcome), bool(withheld), int(n)) for day, outcome, withheld, n in rows]

    def feedback_days(self, query: FigureQuery) -> list[tuple[str, str, int]]:
        """(day, rating, count) of the feedback of the period on visible turns."""
        keys = self._keys(query.readable)
        rows = self._read("SELECT day, COALESCE(rating, ''), COUNT(*) FROM figure_records"
                          f" WHERE action = ? AND {self.PERIOD} AND collections IN ({_marks(keys)})"
                          " GROUP BY 1, 2 ORDER BY 1, 2", (FEEDBACK, *self._period(query), *keys)) if keys else []
        return [(str(day), str(rating), int(n)) for day, rating, n in rows]

    def gaps(self, query: FigureQuery, limit: int = 25) -> list[Gap]:
        """The redacted questions of the period that found no source, most asked first (content that retention
        destroyed is not counted). Each question is looked up by its seq, so only those turns' content is read."""
        keys = self._keys(query.readable)
        rows = self._read(f"SELECT q, COUNT(*), MAX(time) FROM (SELECT t.time, (SELECT {self.QUESTION} FROM content c"
                          " WHERE c.seq = t.seq) AS q FROM figure_records t WHERE t.action = ? AND t.day >= ?"
                          f" AND t.day < ? AND t.outcome = 'no_source' AND t.collections IN ({_marks(keys)})) x"
                          " WHERE q IS NOT NULL GROUP BY q ORDER BY 2 DESC, 3 DESC LIMIT ?",
                          (TURN, *self._period(query), *keys, limit)) if keys else []
        return [Gap(str(q), int(n), str(last)) for q, n, last in rows]

    def document_counts(self, query: FigureQuery) -> list[DocumentCount]:
        """Per document of a readable collection: the turns of the period that were given it (one row per turn
        and document), and that cited it."""
        readable = sorted(query.readable)
        rows = self._read("SELECT doc_id, collection, COUNT(*), SUM(cited)"
                          f" FROM figure_sources WHERE {self.PERIOD}"
                          f" AND collection IN ({_marks(readable)}) GROUP BY 1, 2",
                          (*self._period(query), *readable)) if readable else []
        return [DocumentCount(str(doc), str(coll), int(given), int(cited)) for doc, coll, given, cited in rows]

    def redaction_days(self, query: FigureQuery) -> list[tuple[str, str, int]]:
        """(day, type, count) of the personal data redacted from the visible questions of the period."""
        keys = self._keys(query.readable)
        rows = self._read("SELECT day, type, COUNT(*) FROM figure_redactions"
                          f" WHERE {self.PERIOD} AND collections IN ({_marks(keys)}) GROUP BY 1, 2 ORDER BY 1, 2",
                          (*self._period(query), *keys)) if keys else []
        return [(str(day), str(kind), int(n)) for day, kind, n in rows]

    def reading_days(self, query: FigureQuery) -> list[tuple[str, str, str, int, str]]:
        """(day, actor pseudonym, action, count, last time) of the auditors' readings of the log in the period
        (an actor whose metadata retention destroyed is '')."""
        rows = self._read("SELECT day, COALESCE(actor, ''), action, COUNT(*), MAX(time)"
                          f" FROM figure_records WHERE action IN ({_marks(READINGS)}) AND {self.PERIOD}"
                          " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", (*READINGS, *self._period(query)))
        return [(str(day), str(actor), str(action), int(n), str(last)) for day, actor, action, n, last in rows]


class FigureStore(Protocol):
    """The figure queries every audit store answers."""

    def update_figures(self, batch: int = CATCH_UP_BATCH) -> int:
        """Add the figure rows of the records appended since the last update; returns the records read."""

    def turn_days(self, query: FigureQuery) -> list[tuple[str, str, bool, int]]:
        """(day, outcome, withheld, turns) of the visible turns of the period."""

    def feedback_days(self, query: FigureQuery) -> list[tuple[str, str, int]]:
        """(day, rating, count) of the feedback of the period on visible turns."""

    def gaps(self, query: FigureQuery, limit: int = 25) -> list[Gap]:
        """The redacted questions of the period that found no source, most asked first."""

    def document_counts(self, query: FigureQuery) -> list[DocumentCount]:
        """Per document of a readable collection: turns given it, and turns that cited it."""

    def redaction_days(self, query: FigureQuery) -> list[tuple[str, str, int]]:
        """(day, type, count) of the personal data redacted from the visible questions of the period."""

    def reading_days(self, query: FigureQuery) -> list[tuple[str, str, str, int, str]]:
        """(day, actor pseudonym, action, count, last time) of the auditors' readings of the log."""
