"""The audit log: one chained record per turn and per event, signed checkpoints, verification, export, purge.

The log logs its readers: pass `auditor=` (a raw user id) to `verify`, `export`, `search` and `get` and the
reading is itself appended as an `audit.*` record before the answer is returned. The CLI and the web pages
always do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Self

from assistant.audit.checkpoint import Checkpoint, signed_body
from assistant.audit.export import write_csv, write_jsonl
from assistant.audit.keys import AuditKeys
from assistant.audit.records import PURGE_ACTION, PreparedRecord, prepare_record, seq_ranges
from assistant.audit.retention import PurgeResult, format_time, oldest_cutoff, plan_purge
from assistant.audit.settings import AuditSettings
from assistant.audit.sqlite_store import SQLiteAuditStore
from assistant.audit.store import AuditStore, Hold, RecordQuery, StoredRecord
from assistant.audit.verify import VerifyResult, verify_records
from assistant.audit.witness import read_witness, write_witness
from core.errors import AuditError, ConfigurationError, NotFound, UserError

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "baken-system"
# Must not contain "conversation.turn": exports and tests count turn records by that substring.
QUESTION_ACTION = "conversation.question"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _as_time(value: datetime | str | None) -> str | None:
    """A filter bound in the log's time format; a bare date means its midnight UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise UserError(f"not an ISO-8601 date or time: {value!r} (e.g. 2026-01-31 or 2026-01-31T12:00)") \
                from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return format_time(value)


def open_store(settings: AuditSettings, data_dir: Path) -> AuditStore:
    """The store the settings name: PostgreSQL when a DSN is set, else the SQLite file under `data_dir`."""
    if settings.dsn is not None:
        from assistant.audit.postgres_store import PostgresAuditStore

        return PostgresAuditStore(settings.dsn.get_secret_value(), schema=settings.pg_schema)
    return SQLiteAuditStore(settings.database_path(data_dir), durable=settings.durable,
                            busy_timeout_ms=settings.busy_timeout_ms)


def _check_shared_key(store: AuditStore, keys: AuditKeys) -> None:
    """Refuse to write into a shared log that another key signed: every process, on every host, must use the
    same key directory, or checkpoints would not verify and one user would get a pseudonym per host."""
    signed = store.checkpoints()
    if signed and signed[-1].key_id != keys.signer.key_id:
        store.close()
        raise ConfigurationError(
            f"the shared audit log is signed with key {signed[-1].key_id}, this process has key "
            f"{keys.signer.key_id}: give every Baken process the same audit key directory "
            "(BAKEN_AUDIT__KEY_DIR, a secret volume)")


class AuditLog:
    """The tamper-evident log of every interaction, behind an `AuditStore`."""

    def __init__(self, store: AuditStore, keys: AuditKeys, settings: AuditSettings,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self.store = store
        self.keys = keys
        self.settings = settings
        self._clock = clock

    @classmethod
    def open(cls, settings: AuditSettings, data_dir: Path) -> AuditLog:
        """The log in PostgreSQL when `settings.dsn` is set, else in the SQLite file under `data_dir`."""
        keys = AuditKeys.load_or_create(settings.keys_path(data_dir))
        store = open_store(settings, data_dir)
        if settings.dsn is not None:
            _check_shared_key(store, keys)
        return cls(store, keys, settings)

    def pseudonym(self, user_id: str) -> str:
        """The actor pseudonym of a user id (keyed HMAC); the raw id never enters the log."""
        return self.keys.pseudonym(user_id)

    def now(self) -> str:
        """The current time in the log's format."""
        return format_time(self._clock())

    # --- writing -------------------------------------------------------------------------------------------

    def append(self, action: str, *, actor: str, role: str, record: dict[str, Any],
               content: dict[str, Any] | None = None, conversation_id: str | None = None,
               outcome: str | None = None) -> int:
        """Append one record (metadata chained, content committed to); returns its seq, raises AuditError."""
        pseudonym = self.pseudonym(actor)

        def prepare(seq: int, prev_head: bytes) -> PreparedRecord:
            return prepare_record(seq, prev_head, time=self.now(), action=action, actor=pseudonym, role=role,
                                  attributes=record, content=content, conversation_id=conversation_id,
                                  outcome=outcome)

        try:
            written = self.store.append(prepare)
        except AuditError:
            raise
        except (ValueError, TypeError) as exc:  # not JSON, reserved field, NaN...
            raise AuditError(f"the audit record for {action} cannot be written: {exc}") from exc
        if written.seq % self.settings.checkpoint_every == 0 or written.seq == 1:  # the first signs the key in
            self._auto_checkpoint(written)
        return written.seq

    def append_question(self, *, actor: str, role: str, record: dict[str, Any], content: dict[str, Any],
                        conversation_id: str) -> int:
        """Log a question before the model answers it (outcome: started); its turn record follows."""
        return self.append(QUESTION_ACTION, actor=actor, role=role, record=record, content=content,
                           conversation_id=conversation_id, outcome="started")

    def append_turn(self, *, actor: str, role: str, record: dict[str, Any], content: dict[str, Any],
                    conversation_id: str, outcome: str) -> int:
        """Log one conversation turn (outcome: answered, no_source, refused, error:<type>)."""
        return self.append("conversation.turn", actor=actor, role=role, record=record, content=content,
                           conversation_id=conversation_id, outcome=outcome)

    def append_feedback(self, *, actor: str, role: str, conversation_id: str, turn_seq: int, rating: str,
                        comment: str | None = None) -> int:
        """Log a user's feedback on an answer; a (redacted) comment goes to content."""
        return self.append("feedback.given", actor=actor, role=role, conversation_id=conversation_id,
                           record={"baken.feedback.turn_seq": turn_seq, "baken.feedback.rating": rating},
                           content=None if comment is None else {"comment": comment}, outcome="recorded")

    def append_document_event(self, action: str, *, actor: str, role: str, doc_id: str, sha256: str,
                              outcome: str = "ok", details: dict[str, Any] | None = None) -> int:
        """Log document.upload, document.reindex or document.delete (who, which document hash)."""
        if not action.startswith("document."):
            raise ValueError(f"not a document action: {action}")
        record = {"baken.document.id": doc_id, "baken.document.sha256": sha256, **(details or {})}
        return self.append(action, actor=actor, role=role, record=record, outcome=outcome)

    def append_auth_event(self, action: str, *, actor: str, role: str, outcome: str,
                          origin: str | None = None, details: dict[str, Any] | None = None) -> int:
        """Log auth.login, auth.login_failed, auth.logout, user.change (origin: e.g. client address)."""
        record = {"baken.origin": origin, **(details or {})}
        return self.append(action, actor=actor, role=role, record=record, outcome=outcome)

    # --- checkpoints ---------------------------------------------------------------------------------------

    def _sign_and_store(self, seq: int, head: bytes, *, witness_required: bool = False) -> Checkpoint:
        """Sign (seq, head), store the checkpoint and append it to the witness (when one is configured). A
        witness that cannot be written only warns unless `witness_required`: the checkpoint is stored."""
        time, key_id = self.now(), self.keys.signer.key_id
        signature = self.keys.signer.sign(signed_body(seq, head.hex(), time, key_id)).hex()
        checkpoint = Checkpoint(seq=seq, head=head.hex(), time=time, key_id=key_id, signature=signature)
        self.store.add_checkpoint(checkpoint)
        if self.settings.witness_dir is not None:
            try:
                write_witness(self.settings.witness_dir, checkpoint)
            except AuditError as exc:
                if witness_required:
                    raise
                logger.warning("audit checkpoint at seq %d stored but not witnessed: %s", seq, exc)
        return checkpoint

    def _auto_checkpoint(self, written: PreparedRecord) -> None:
        """The periodic checkpoint; the record is already safely written, so a failure here only warns."""
        try:
            self._sign_and_store(written.seq, written.head)
        except AuditError as exc:
            logger.warning("audit checkpoint at seq %d not stored (the next one will cover it): %s",
                           written.seq, exc)

    def checkpoint(self) -> Checkpoint:
        """Sign the current head now (on demand); store, witness and return the checkpoint (AuditError when the
        configured witness cannot be written: on demand, the operator must hear of it)."""
        last = self.store.last()
        if last is None:
            raise UserError("the audit log is empty: there is nothing to sign yet")
        return self._sign_and_store(*last, witness_required=True)

    def public_key_pem(self) -> bytes:
        """The public key that verifies this log's checkpoints."""
        return self.keys.signer.public_pem

    # --- reading (each read by an auditor is itself logged) ------------------------------------------------

    def _log_reader(self, action: str, auditor: str | None, role: str, details: dict[str, Any],
                    outcome: str = "ok") -> None:
        if auditor is not None:
            self.append(action, actor=auditor, role=role, record={"baken.audit.request": details},
                        outcome=outcome)

    def verify(self, checkpoint: Path | None = None, *, witness: Path | None = None, auditor: str | None = None,
               role: str = "auditor") -> VerifyResult:
        """Walk the whole chain against stored checkpoints (and the checkpoint file, and the checkpoints of the
        witness directory, if given): every record's hash, its indexed columns, its content and place."""
        checkpoints = self.store.checkpoints()
        if checkpoint is not None:
            checkpoints.append(Checkpoint.read(checkpoint))
        witnessed, witness_notes = read_witness(witness) if witness is not None else ([], ())
        signer = self.keys.signer
        result = verify_records(self.store.records(), checkpoints,
                                lambda cp: _is_hex(cp.signature) and signer.verify(bytes.fromhex(cp.signature),
                                                                                   cp.body()), witnessed)
        if witness is not None:
            result = replace(result, notes=result.notes + witness_notes + _witness_lag(witnessed, checkpoints))
        self._log_reader("audit.verify", auditor, role,
                         {"checkpoint_file": checkpoint is not None, "witness": witness is not None,
                          "witnessed": len(witnessed), "records": result.records,
                          "first_bad_seq": result.first_bad_seq}, outcome="intact" if result.ok else "broken")
        return result

    def export(self, out: IO[str], format: str = "jsonl", since: datetime | str | None = None,
               until: datetime | str | None = None, actor: str | None = None, document: str | None = None,
               *, auditor: str | None = None, role: str = "auditor") -> int:
        """Export records (actor is a pseudonym) as verifiable JSONL or flat CSV; returns the records written."""
        if format not in ("jsonl", "csv"):
            raise UserError(f"unknown export format {format!r}: use jsonl or csv")
        query = RecordQuery(since=_as_time(since), until=_as_time(until), actor=actor, document=document)
        # Logged first, so the export contains (and its checkpoint covers) its own export event.
        self._log_reader("audit.export", auditor, role, {"format": format, "since": query.since,
                                                          "until": query.until, "actor": actor,
                                                          "document": document})
        writer = write_jsonl if format == "jsonl" else write_csv
        return writer(self.store.records(), out, query)

    def search(self, *, since: datetime | str | None = None, until: datetime | str | None = None,
               actor: str | None = None, action: str | None = None, outcome: str | None = None,
               conversation_id: str | None = None, document: str | None = None,
               redaction_type: str | None = None, limit: int = 100, offset: int = 0,
               auditor: str | None = None, role: str = "auditor") -> list[StoredRecord]:
        """Records matching every filter given (actor is a pseudonym), newest first."""
        query = RecordQuery(since=_as_time(since), until=_as_time(until), actor=actor, action=action,
                            outcome=outcome, conversation_id=conversation_id, document=document,
                            redaction_type=redaction_type)
        self._log_reader("audit.search", auditor, role,
                         {k: v for k, v in vars(query).items() if v is not None} | {"offset": offset})
        return self.store.find(query, limit=limit, offset=offset)

    def get(self, seq: int, *, auditor: str | None = None, role: str = "auditor") -> StoredRecord:
        """One record with its content; NotFound when there is none."""
        found = self.store.get(seq)
        self._log_reader("audit.view", auditor, role, {"seq": seq}, outcome="ok" if found else "not_found")
        if found is None:
            raise NotFound(f"there is no audit record {seq}")
        return found

    # --- retention and holds -------------------------------------------------------------------------------

    def purge(self, now: datetime | None = None, *, dry_run: bool = False, actor: str = SYSTEM_ACTOR,
              role: str = "system") -> PurgeResult:
        """Destroy content and metadata past retention that no hold protects, and log the purge."""
        moment = now if now is not None else self._clock()
        holds = self.store.holds()
        plan = plan_purge(self.store.retention_rows(oldest_cutoff(self.settings, moment)), holds,
                          self.settings, moment)
        if dry_run:  # a reading of the log like any other, so it is logged too (but destroys nothing)
            self.append("audit.purge_preview", actor=actor, role=role, outcome="ok", record={
                "baken.purge.content_count": len(plan.content_seqs),
                "baken.purge.metadata_count": len(plan.metadata_seqs),
                "baken.purge.held_count": len(plan.held_seqs)})
            return PurgeResult(plan.content_seqs, plan.metadata_seqs, plan.held_seqs, None, dry_run=True,
                               format1_metadata_seqs=plan.format1_metadata_seqs)
        attributes = {
            "baken.purge.content_seqs": seq_ranges(plan.content_seqs),
            "baken.purge.metadata_seqs": seq_ranges(plan.metadata_seqs),
            # Verification forgives a purged record in format 1 (no header hash) only when this list names it.
            "baken.purge.format1_metadata_seqs": seq_ranges(plan.format1_metadata_seqs),
            "baken.purge.held_seqs": seq_ranges(plan.held_seqs),
            "baken.purge.as_of": format_time(moment),
            "baken.purge.content_retention_days": self.settings.content_retention_days,
            "baken.purge.metadata_retention_days": self.settings.metadata_retention_days,
            "baken.purge.retention_days_by_kind": self.settings.retention_days_by_kind,
            "baken.purge.holds": [h.id for h in holds],
        }
        pseudonym = self.pseudonym(actor)

        def prepare(seq: int, prev_head: bytes) -> PreparedRecord:
            return prepare_record(seq, prev_head, time=self.now(), action=PURGE_ACTION, actor=pseudonym,
                                  role=role, attributes=attributes, outcome="purged")

        written = self.store.purge(plan.content_seqs, plan.metadata_seqs, prepare)
        logger.info("audit purge: content of %d records, metadata of %d, %d held",
                    len(plan.content_seqs), len(plan.metadata_seqs), len(plan.held_seqs))
        # Verification trusts a purge record only under a signed checkpoint, so sign one at once.
        self._sign_and_store(written.seq, written.head)
        return PurgeResult(plan.content_seqs, plan.metadata_seqs, plan.held_seqs, written.seq,
                           format1_metadata_seqs=plan.format1_metadata_seqs)

    def add_hold(self, *, reason: str, actor: str, conversation_id: str | None = None,
                 seq_from: int | None = None, seq_to: int | None = None, role: str = "auditor") -> int:
        """Put a legal hold on one conversation or a seq range; returns the hold id. Logged."""
        if (conversation_id is None) == (seq_from is None and seq_to is None):
            raise UserError("a hold names either a conversation id or a seq range, not both or neither")
        if seq_from is not None and seq_to is not None and seq_from > seq_to:
            raise UserError(f"the seq range {seq_from}-{seq_to} is empty: give FIRST-LAST with FIRST <= LAST")
        hold_id = self.store.add_hold(conversation_id, seq_from, seq_to, reason, self.now(), self.pseudonym(actor))
        self.append("audit.hold.add", actor=actor, role=role, outcome="ok",
                    record={"baken.hold.id": hold_id, "baken.hold.seq_from": seq_from,
                            "baken.hold.seq_to": seq_to, "baken.hold.conversation": conversation_id},
                    content={"reason": reason})
        return hold_id

    def remove_hold(self, hold_id: int, *, actor: str, role: str = "auditor") -> None:
        """Lift a legal hold. Logged."""
        if not self.store.remove_hold(hold_id):
            raise NotFound(f"there is no legal hold {hold_id} (see `baken audit hold list`)")
        self.append("audit.hold.remove", actor=actor, role=role, record={"baken.hold.id": hold_id}, outcome="ok")

    def holds(self) -> list[Hold]:
        """The legal holds in force."""
        return self.store.holds()

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Self:
        """Use the log in a `with` block; it is closed at the end."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the log."""
        self.close()


def _witness_lag(witnessed: list[Checkpoint], stored: list[Checkpoint]) -> tuple[str, ...]:
    """A note when the witness lags behind the stored checkpoints (it was unreachable, or is an old copy)."""
    if not witnessed:
        return ("the witness holds no checkpoint: it proves nothing yet",)
    last_witnessed, last_stored = max(cp.seq for cp in witnessed), max((cp.seq for cp in stored), default=0)
    if last_stored > last_witnessed:
        return ((f"the witness's last checkpoint is at seq {last_witnessed}, the log's at seq {last_stored}: "
                 f"records after {last_witnessed} are not witnessed"),)
    return ()


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True
