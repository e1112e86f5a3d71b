"""The signing and pseudonym keys: files outside the database, private, created once, keyed pseudonyms."""

from __future__ import annotations

import stat
from pathlib import Path

from assistant.audit.keys import PSEUDONYM_KEY_FILE, PUBLIC_KEY_FILE, SIGNING_KEY_FILE, AuditKeys


def test_keys_are_created_on_first_use_readable_only_by_the_owner(tmp_path: Path) -> None:
    AuditKeys.load_or_create(tmp_path / "keys")
    for name in (SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE):
        assert stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode) == 0o600
    assert (tmp_path / "keys" / PUBLIC_KEY_FILE).read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == sorted(
        [SIGNING_KEY_FILE, PSEUDONYM_KEY_FILE, PUBLIC_KEY_FILE])


def test_keys_are_reused_once_created(tmp_path: Path) -> None:
    first = AuditKeys.load_or_create(tmp_path)
    second = AuditKeys.load_or_create(tmp_path)
    assert first.signer.public_pem == second.signer.public_pem
    assert first.pseudonym("alice") == second.pseudonym("alice")


def test_pseudonyms_depend_on_the_secret_key(tmp_path: Path) -> None:
    one = AuditKeys.load_or_create(tmp_path / "one")
    other = AuditKeys.load_or_create(tmp_path / "other")
    assert one.pseudonym("alice") != other.pseudonym("alice")
    assert one.pseudonym("alice") != one.pseudonym("bob")
    assert len(one.pseudonym("alice")) == 64


def test_a_signature_verifies_only_for_the_signed_bytes(tmp_path: Path) -> None:
    signer = AuditKeys.load_or_create(tmp_path).signer
    signature = signer.sign(b"checkpoint")
    assert signer.verify(signature, b"checkpoint") and not signer.verify(signature, b"checkpoinT")


def test_keys_load_from_a_read_only_directory(tmp_path, monkeypatch) -> None:
    from pathlib import Path

    from assistant.audit.keys import PUBLIC_KEY_FILE, AuditKeys

    first = AuditKeys.load_or_create(tmp_path / "keys")
    (tmp_path / "keys" / PUBLIC_KEY_FILE).unlink()

    def read_only(self: Path, data: bytes) -> int:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(Path, "write_bytes", read_only)  # as a read-only secret mount (root ignores modes)
    again = AuditKeys.load_or_create(tmp_path / "keys")
    assert again.signer.key_id == first.signer.key_id and again.pseudonym("u") == first.pseudonym("u")
