"""The tamper-evident audit log: hash-chained records, signed checkpoints, retention, export (see log.py)."""

from assistant.audit.checkpoint import Checkpoint
from assistant.audit.keys import AuditKeys
from assistant.audit.log import AuditLog
from assistant.audit.migrate import CopyResult, copy_audit_log
from assistant.audit.retention import PurgeResult
from assistant.audit.settings import AuditSettings
from assistant.audit.sqlite_store import SQLiteAuditStore
from assistant.audit.store import AuditStore, Hold, RecordQuery, StoredRecord
from assistant.audit.verify import VerifyResult

__all__ = [
    "AuditKeys", "AuditLog", "AuditSettings", "AuditStore", "Checkpoint", "CopyResult", "Hold", "PurgeResult",
    "RecordQuery", "SQLiteAuditStore", "StoredRecord", "VerifyResult", "copy_audit_log",
]
