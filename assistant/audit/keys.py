"""The audit log's two secrets, kept as files outside the database: the checkpoint signing key and the key of
the actor pseudonyms. Both are created on first use with mode 0600."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from assistant.audit.signing import Ed25519Signer, generate_private_pem
from core.errors import AuditError

SIGNING_KEY_FILE = "audit-signing.key"
PUBLIC_KEY_FILE = "audit-signing.pub"
PSEUDONYM_KEY_FILE = "audit-pseudonym.key"


class AuditKeys:
    """The signer of checkpoints and the HMAC key of actor pseudonyms."""

    def __init__(self, signer: Ed25519Signer, pseudonym_key: bytes) -> None:
        self.signer = signer
        self._pseudonym_key = pseudonym_key

    @classmethod
    def load_or_create(cls, key_dir: Path) -> AuditKeys:
        """Read the keys from `key_dir`, creating any that is missing (and the public key file beside it)."""
        try:
            key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            private_pem = _read_or_create(key_dir / SIGNING_KEY_FILE, generate_private_pem)
            pseudonym_key = _read_or_create(key_dir / PSEUDONYM_KEY_FILE, lambda: secrets.token_bytes(32))
        except OSError as exc:
            raise AuditError(f"cannot read or create the audit keys in {key_dir}: {exc}") from exc
        signer = Ed25519Signer(private_pem)
        public = key_dir / PUBLIC_KEY_FILE
        try:
            if not public.exists() or public.read_bytes() != signer.public_pem:
                public.write_bytes(signer.public_pem)
        except OSError:  # a read-only secret mount: the public key is only a convenience copy
            pass
        return cls(signer, pseudonym_key)

    def pseudonym(self, user_id: str) -> str:
        """The keyed HMAC-SHA256 of a user id: stable per user, meaningless without the key."""
        return hmac.new(self._pseudonym_key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()


def _read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """Read `path`, or create it atomically (0600) with `make()`; two processes racing get the same key."""
    if path.exists():
        return path.read_bytes()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(make())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # fails if another process created it first: keep theirs
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()
