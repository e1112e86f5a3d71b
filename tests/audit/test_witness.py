"""The witness: every signed checkpoint is appended outside the server, and `verify --witness` catches a log
that was rewritten and re-signed with the stolen key (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import logging
import shutil
import stat
from pathlib import Path

import pytest

from assistant.audit import AuditLog, AuditSettings
from assistant.audit.chain import canonical_json, next_head
from assistant.audit.checkpoint import Checkpoint, signed_body
from assistant.audit.signing import Ed25519Signer, generate_private_pem
from assistant.audit.witness import WITNESS_FILE, read_witness
from core.errors import AuditError, UserError

from .conftest import Backend, append_turns, rehashed


@pytest.fixture
def settings(tmp_path: Path) -> AuditSettings:
    """The audit tests' settings with a witness directory (checkpoints at 1, 5, 10...)."""
    (tmp_path / "witness").mkdir()
    return AuditSettings(path=tmp_path / "audit" / "audit.sqlite3", key_dir=tmp_path / "keys",
                         checkpoint_every=5, durable=False, witness_dir=tmp_path / "witness")


def _witness_lines(settings: AuditSettings) -> list[bytes]:
    return (settings.witness_dir / WITNESS_FILE).read_bytes().splitlines()  # type: ignore[operator]


def _rewrite_and_re_sign(backend: Backend, first: int) -> None:
    """What an attacker with the server and its key does: change record `first`, recompute every hash and head
    after it, and replace the stored checkpoints with new ones signed by the same key."""
    rows = backend.raw("SELECT seq, record_json, head FROM records ORDER BY seq")
    backend.raw("UPDATE records SET record_json = replace(record_json, 'answered', 'refused'), outcome = 'refused'"
                " WHERE seq = ?", (first,))
    rows = backend.raw("SELECT seq, record_json, head FROM records ORDER BY seq")
    prev = bytes(rows[first - 2][2]) if first > 1 else bytes(32)
    heads = {}
    for seq, text, _ in rows[first - 1:]:
        rec, body = rehashed(text)
        prev = next_head(prev, rec)
        heads[seq] = prev
        backend.raw("UPDATE records SET record_hash = ?, body_hash = ?, head = ? WHERE seq = ?", (rec, body, prev, seq))
    signer = backend.log.keys.signer
    for (seq,) in backend.raw("SELECT seq FROM checkpoints WHERE seq >= ?", (first,)):
        body = signed_body(seq, heads[seq].hex(), "2026-01-01T00:00:00.000000Z", signer.key_id)
        backend.raw("DELETE FROM checkpoints WHERE seq = ?", (seq,))
        backend.raw("INSERT INTO checkpoints (seq, head, time, key_id, signature) VALUES (?, ?, ?, ?, ?)",
                    (seq, heads[seq].hex(), "2026-01-01T00:00:00.000000Z", signer.key_id,
                     signer.sign(body).hex()))


def test_every_signed_checkpoint_is_appended_to_the_witness(log: AuditLog, settings: AuditSettings) -> None:
    append_turns(log, 12)
    log.checkpoint()
    lines = _witness_lines(settings)
    stored = log.store.checkpoints()
    assert [cp.seq for cp in stored] == [1, 5, 10, 12]
    assert lines == [canonical_json(cp.to_dict()) for cp in stored]
    assert stat.S_IMODE((settings.witness_dir / WITNESS_FILE).stat().st_mode) == 0o640  # type: ignore[operator]
    log.purge()  # a purge signs one at once: witnessed too
    assert len(_witness_lines(settings)) == 5


def test_a_clean_log_passes_verification_against_its_witness(log: AuditLog, settings: AuditSettings,
                                                             cli) -> None:  # type: ignore[no-untyped-def]
    append_turns(log, 12)
    result = log.verify(witness=settings.witness_dir)
    assert result.ok and result.witnessed == 3, result
    assert result.notes == ("records 11..12 come after the last signed checkpoint",)
    status, out = cli("verify", "--witness", str(settings.witness_dir))
    assert status == 0 and "OK: 12 records" in out and "3 witnessed checkpoint(s) match" in out


def test_a_rewritten_and_re_signed_log_is_caught_only_by_the_witness(backend: Backend,
                                                                     settings: AuditSettings) -> None:
    append_turns(backend.log, 12)  # checkpoints at 1, 5 and 10, each witnessed
    _rewrite_and_re_sign(backend, 3)
    assert backend.log.verify().ok  # every stored checkpoint was re-signed: the database alone cannot tell
    result = backend.log.verify(witness=settings.witness_dir)
    assert not result.ok and result.first_bad_seq == 2, result
    assert "rewritten and re-signed" in result.reason and "seqs 2..5" in result.reason


def test_a_cut_off_and_re_signed_log_is_caught_by_the_witness(backend: Backend, settings: AuditSettings) -> None:
    append_turns(backend.log, 12)
    backend.raw("DELETE FROM content WHERE seq >= 8")
    backend.raw("DELETE FROM records WHERE seq >= 8")
    backend.raw("DELETE FROM checkpoints WHERE seq >= 8")
    assert backend.log.verify().ok
    result = backend.log.verify(witness=settings.witness_dir)
    assert not result.ok and result.first_bad_seq == 8 and "a checkpoint in the witness covers seq 10" in result.reason


def test_cli_reports_a_rewritten_log_against_the_witness(backend: Backend, settings: AuditSettings,
                                                         cli) -> None:  # type: ignore[no-untyped-def]
    if backend.name != "sqlite":
        pytest.skip("the CLI fixture runs on the SQLite log under DATA_DIR")
    append_turns(backend.log, 7)
    _rewrite_and_re_sign(backend, 3)
    assert cli("verify")[0] == 0
    status, out = cli("verify", "--witness", str(settings.witness_dir))
    assert status == 1 and "FAILED at record 2: the log was rewritten and re-signed" in out


def test_a_missing_witness_directory_is_a_clear_error(log: AuditLog, tmp_path: Path,
                                                      cli) -> None:  # type: ignore[no-untyped-def]
    append_turns(log, 2)
    with pytest.raises(UserError, match="does not exist"):
        log.verify(witness=tmp_path / "nowhere")
    status, out = cli("verify", "--witness", str(tmp_path / "nowhere"))
    assert status != 0 and "the witness directory" in out and "does not exist" in out
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=f"holds no {WITNESS_FILE}"):
        log.verify(witness=tmp_path / "empty")


def test_a_line_that_is_not_a_checkpoint_is_an_error_and_a_cut_last_line_a_note(log: AuditLog,
                                                                                 settings: AuditSettings) -> None:
    append_turns(log, 6)
    witness = settings.witness_dir / WITNESS_FILE  # type: ignore[operator]
    good = witness.read_bytes()
    witness.write_bytes(good + b'{"checkpoint":{"format":"baken-audit-checkpoint/1","seq":6')
    result = log.verify(witness=settings.witness_dir)
    assert result.ok and any("incomplete" in note for note in result.notes)
    witness.write_bytes(good + b"not json\n")
    with pytest.raises(UserError, match="line 3 of the witness file"):
        log.verify(witness=settings.witness_dir)


def test_a_witness_checkpoint_signed_by_another_key_fails(log: AuditLog, settings: AuditSettings) -> None:
    append_turns(log, 6)
    other = Ed25519Signer(generate_private_pem())
    cp = log.store.checkpoints()[-1]
    forged = Checkpoint(seq=cp.seq, head=cp.head, time=cp.time, key_id=other.key_id,
                        signature=other.sign(signed_body(cp.seq, cp.head, cp.time, other.key_id)).hex())
    with (settings.witness_dir / WITNESS_FILE).open("ab") as handle:  # type: ignore[operator]
        handle.write(canonical_json(forged.to_dict()) + b"\n")
    result = log.verify(witness=settings.witness_dir)
    assert not result.ok and "the witness's checkpoint at seq 5 has a bad signature" in result.reason


def test_an_old_copy_of_the_witness_says_what_it_does_not_cover(log: AuditLog, settings: AuditSettings,
                                                               tmp_path: Path) -> None:
    append_turns(log, 6)
    shutil.copytree(settings.witness_dir, tmp_path / "copy")  # type: ignore[arg-type]
    append_turns(log, 6)
    result = log.verify(witness=tmp_path / "copy")
    assert result.ok and result.witnessed == 2
    assert any("records after 5 are not witnessed" in note for note in result.notes)


def test_an_unreachable_witness_warns_but_the_log_goes_on(log: AuditLog, settings: AuditSettings,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    settings.witness_dir.rmdir()  # type: ignore[union-attr]  # the mount is gone
    with caplog.at_level(logging.WARNING, logger="assistant.audit.log"):
        append_turns(log, 5)
    assert [cp.seq for cp in log.store.checkpoints()] == [1, 5]
    assert "not witnessed" in caplog.text and "does not exist" in caplog.text
    with pytest.raises(AuditError, match="witness"):
        log.checkpoint()  # on demand, the operator hears of it
    assert not settings.witness_dir.exists()  # type: ignore[union-attr]  # never created beside the mount


def test_read_witness_returns_the_checkpoints_in_order(log: AuditLog, settings: AuditSettings) -> None:
    append_turns(log, 10)
    checkpoints, notes = read_witness(settings.witness_dir)  # type: ignore[arg-type]
    assert checkpoints == log.store.checkpoints() and notes == ()
    assert json.loads(_witness_lines(settings)[0])["checkpoint"]["seq"] == 1


def test_a_rewrite_after_the_last_witnessed_checkpoint_is_not_caught(backend: Backend,
                                                                     settings: AuditSettings) -> None:
    """The limit README states: the witness proves the chain up to its last checkpoint, not the tail after."""
    if backend.name != "sqlite":
        pytest.skip("one store is enough to show the limit")
    append_turns(backend.log, 7)  # witnessed at 1 and 5
    _rewrite_and_re_sign(backend, 6)
    result = backend.log.verify(witness=settings.witness_dir)
    assert result.ok and "records 6..7 come after the last signed checkpoint" in result.notes
