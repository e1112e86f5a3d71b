"""Settings of the audit log; the lead's `Settings` holds them as `audit` (env `BAKEN_AUDIT__...`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator


class AuditSettings(BaseModel):
    """Where the audit log lives, how often it is signed and how long its records are kept."""

    path: Path | None = Field(
        default=None, description="The SQLite audit database; defaults to DATA_DIR/audit/audit.sqlite3."
    )
    dsn: SecretStr | None = Field(
        default=None, description="PostgreSQL connection string (needs the `postgres` extra); when set, the log "
        "lives there instead of SQLite, shared by every Baken process.",
    )
    pg_schema: str = Field(default="baken_audit", description="PostgreSQL schema that holds the audit tables.")
    key_dir: Path | None = Field(
        default=None,
        description="Directory of the Ed25519 signing key and the HMAC pseudonym key, outside the database; "
        "defaults to DATA_DIR/keys. Back it up separately from the database.",
    )
    witness_dir: Path | None = Field(
        default=None,
        description="Directory outside the server's reach (an append-only mount, a share on a second host) to "
        "which every signed checkpoint is also appended (checkpoints.jsonl, fsynced); `baken audit verify "
        "--witness DIR` then detects a log that was rewritten and re-signed. Never created by Baken.",
    )
    checkpoint_every: int = Field(
        default=100, ge=1, description="Sign a checkpoint of the chain head automatically every this many records."
    )
    content_retention_days: int = Field(
        default=365, ge=1, description="Days the redacted question, answer and chunk text are kept before purge."
    )
    metadata_retention_days: int = Field(
        default=2555,
        ge=183,
        description="Days record metadata is kept before purge (EU AI Act: at least six months); the hash of a "
        "purged record stays so that the chain still verifies.",
    )
    retention_days_by_kind: dict[str, int] = Field(
        default_factory=dict,
        description="Metadata retention per record kind (the action's first part: conversation, feedback, "
        "document, auth, user, audit), overriding metadata_retention_days; e.g. {\"auth\": 365}.",
    )
    durable: bool = Field(
        default=True, description="fsync every append (SQLite synchronous=FULL); off only for benchmarks and tests."
    )
    busy_timeout_ms: int = Field(
        default=10_000, ge=0, description="How long an append waits for another writer before it fails."
    )

    @field_validator("retention_days_by_kind")
    @classmethod
    def _at_least_six_months(cls, value: dict[str, int]) -> dict[str, int]:
        short = {kind: days for kind, days in value.items() if days < 183}
        if short:
            raise ValueError(f"metadata must be kept at least 183 days (EU AI Act); too short: {short}")
        return value

    def database_path(self, data_dir: Path) -> Path:
        """The database file, resolved against the data directory."""
        return self.path if self.path is not None else data_dir / "audit" / "audit.sqlite3"

    def keys_path(self, data_dir: Path) -> Path:
        """The key directory, resolved against the data directory."""
        return self.key_dir if self.key_dir is not None else data_dir / "keys"
