#!/usr/bin/env python3
"""Verify a Baken audit export on its own: stdlib plus `cryptography`, nothing of Baken.

    python verify_audit_export.py audit.jsonl --checkpoint checkpoint.json --public-key audit-signing.pub

Rules (the same as assistant/audit/chain.py): canonical JSON = sorted keys, separators "," and ":", UTF-8,
non-ASCII unescaped; head_n = SHA-256(head_{n-1} || record_hash_n) with head_0 = 32 zero bytes; content
commitment = SHA-256(salt || canonical(content)). The record hash depends on the record format, and one
export may hold both:

- format 1 (a record without a "format" field): record_hash = SHA-256(canonical(record)).
- format 2 ("format": 2): header = the record's fields format, seq, time, action and kind (kind = the
  action up to its first "."); body_hash = SHA-256(canonical(record)), the whole record; record_hash =
  SHA-256(0x02 || SHA-256(canonical(header)) || body_hash).

Every line must be exactly the canonical JSON of {seq, prev_head, record_hash, head[, record[, content,
salt]]} or {seq, prev_head, record_hash, head, header, body_hash}; seqs run from 1 without gaps, and the
signed checkpoint's head must equal the export's head at its seq. A line with `header` is a format-2 record
whose metadata was purged: its header (time and action) is checked against record_hash with the body hash.
Lines with neither `record` nor `header` are stubs (filtered out, or purged in format 1) whose hash is taken
as given; the chain still binds them. Exit status 0 when the export verifies, 1 when it does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HEX64 = re.compile(r"[0-9a-f]{64}")
LINE_KEYS = {"seq", "prev_head", "record_hash", "head"}
OPTIONAL_KEYS = {"record", "content", "salt", "header", "body_hash"}
CHECKPOINT_FORMAT = "baken-audit-checkpoint/1"
HEADER_FIELDS = ("format", "seq", "time", "action", "kind")


class Invalid(Exception):
    """The export, checkpoint or key does not verify."""


def canonical(value: object) -> bytes:
    """Canonical JSON bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sha256(data: bytes) -> bytes:
    """SHA-256 digest."""
    return hashlib.sha256(data).digest()


def record_hash_v2(header: dict, body_digest: bytes) -> bytes:
    """A format-2 record hash: SHA-256(0x02 || SHA-256(canonical(header)) || body hash)."""
    return sha256(bytes([2]) + sha256(canonical(header)) + body_digest)


def check_header(header: object, expected_seq: int) -> dict:
    """A format-2 header: exactly its five fields, this line's seq, and the kind its action gives."""
    if not isinstance(header, dict) or set(header) != set(HEADER_FIELDS) or header["format"] != 2 \
            or isinstance(header["seq"], bool) or header["seq"] != expected_seq \
            or not isinstance(header["time"], str) or not isinstance(header["action"], str) \
            or header["kind"] != header["action"].split(".", 1)[0]:
        raise Invalid("the record header is malformed (fields, format, seq or kind)")
    return header


def hash_of_record(record: dict, expected_seq: int) -> str:
    """The record hash of a record by its format (hex)."""
    if "format" not in record:
        return sha256(canonical(record)).hex()
    if record["format"] != 2:
        raise Invalid(f"the record has an unknown format {record['format']!r}")
    try:
        header = check_header({name: record[name] for name in HEADER_FIELDS}, expected_seq)
    except KeyError as exc:
        raise Invalid(f"the format-2 record lacks its header field {exc}") from None
    return record_hash_v2(header, sha256(canonical(record))).hex()


def check_checkpoint(checkpoint: dict, public_pem: bytes) -> tuple[int, str]:
    """Verify the checkpoint's signature; returns its (seq, head)."""
    try:
        body, signature = checkpoint["checkpoint"], bytes.fromhex(checkpoint["signature"])
        if body["format"] != CHECKPOINT_FORMAT:
            raise Invalid(f"the checkpoint has format {body['format']!r}, expected {CHECKPOINT_FORMAT}")
        seq, head = body["seq"], body["head"]
        key = serialization.load_pem_public_key(public_pem)
    except (KeyError, TypeError, ValueError) as exc:
        raise Invalid(f"the checkpoint or public key is malformed: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise Invalid("the public key is not an Ed25519 key")
    try:
        key.verify(signature, canonical(body))
    except InvalidSignature as exc:
        raise Invalid("the checkpoint's signature does not verify with this public key") from exc
    if not isinstance(seq, int) or seq < 1 or not isinstance(head, str) or not HEX64.fullmatch(head):
        raise Invalid("the checkpoint's seq or head is malformed")
    return seq, head


def check_line(raw: bytes, expected_seq: int, prev: bytes) -> tuple[bytes, bool, bool]:
    """Check one line against its predecessor; returns (its head, whether it carried a record, whether it
    carried a purged record's header)."""
    try:
        line = json.loads(raw.decode("utf-8"))
        if canonical(line) != raw:
            raise Invalid("the line is not in canonical form")
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid(f"the line is not canonical JSON ({exc})") from exc
    if not isinstance(line, dict) or not LINE_KEYS <= line.keys() or not line.keys() <= LINE_KEYS | OPTIONAL_KEYS:
        raise Invalid("the line does not have the fields of an export line")
    if line["seq"] != expected_seq or isinstance(line["seq"], bool):
        raise Invalid(f"expected seq {expected_seq}, found {line['seq']!r} (a line was removed, added or moved)")
    for name in ("prev_head", "record_hash", "head"):
        if not isinstance(line[name], str) or not HEX64.fullmatch(line[name]):
            raise Invalid(f"{name} is not 64 lowercase hex digits")
    if line["prev_head"] != prev.hex():
        raise Invalid("prev_head is not the head of the line before")
    record = line.get("record")
    if record is not None:
        if not isinstance(record, dict) or record.get("seq") != expected_seq:
            raise Invalid("the record does not carry this line's seq")
        if hash_of_record(record, expected_seq) != line["record_hash"]:
            raise Invalid("the record does not match its record_hash (it was modified)")
    elif "record" in line:
        raise Invalid("record is null")
    if "header" in line or "body_hash" in line:
        body_digest = line.get("body_hash")
        if "record" in line or "header" not in line or not isinstance(body_digest, str) \
                or not HEX64.fullmatch(body_digest):
            raise Invalid("header and body_hash must come together, without the record")
        header = check_header(line["header"], expected_seq)
        if record_hash_v2(header, bytes.fromhex(body_digest)).hex() != line["record_hash"]:
            raise Invalid("the purged record's header does not match its record_hash (its time or action was "
                          "modified)")
    if "content" in line or "salt" in line:
        salt = line.get("salt")
        if record is None or "content" not in line or not isinstance(salt, str) or not HEX64.fullmatch(salt):
            raise Invalid("content and salt must come together, with the record")
        if sha256(bytes.fromhex(salt) + canonical(line["content"])).hex() != record.get("content_commitment"):
            raise Invalid("the content does not match the record's commitment (it was modified)")
    head = sha256(prev + bytes.fromhex(line["record_hash"]))
    if head.hex() != line["head"]:
        raise Invalid("head does not equal SHA-256(prev_head || record_hash)")
    return head, record is not None, "header" in line


def verify_export(export: bytes, checkpoint: dict, public_pem: bytes) -> str:
    """Verify an export against a signed checkpoint; returns a summary, raises Invalid naming the bad line."""
    cp_seq, cp_head = check_checkpoint(checkpoint, public_pem)
    if export and not export.endswith(b"\n"):
        raise Invalid("the export does not end with a newline (it was cut or edited)")
    lines = export[:-1].split(b"\n") if export else []
    prev, with_record, with_header, head_at_cp = bytes(32), 0, 0, None
    for number, raw in enumerate(lines, start=1):
        try:
            prev, has_record, has_header = check_line(raw, number, prev)
        except Invalid as exc:
            raise Invalid(f"line {number} (seq {number}): {exc}") from None
        with_record += has_record
        with_header += has_header
        if number == cp_seq:
            head_at_cp = prev.hex()
    if cp_seq > len(lines):
        raise Invalid(f"the export ends at seq {len(lines)} but the checkpoint covers seq {cp_seq} (truncated)")
    if head_at_cp != cp_head:
        raise Invalid(f"the head at seq {cp_seq} differs from the signed checkpoint: the chain was rewritten")
    after = len(lines) - cp_seq
    headers = f", {with_header} purged with their header" if with_header else ""
    return (f"OK: {len(lines)} chained records ({with_record} with data{headers}) verify; the signed checkpoint "
            f"covers seqs 1..{cp_seq}" + (f"; {after} later records are chained but not yet signed" if after else ""))


def main(argv: list[str] | None = None) -> int:
    """Command line: print the verdict, exit 0 when the export verifies and 1 when it does not."""
    parser = argparse.ArgumentParser(description="Verify a Baken audit export (JSONL) with a signed checkpoint.")
    parser.add_argument("export", type=Path, help="the JSONL file from `baken audit export --format jsonl`")
    parser.add_argument("--checkpoint", type=Path, required=True,
                        help="the file from `baken audit checkpoint --output FILE`")
    parser.add_argument("--public-key", type=Path, required=True,
                        help="the PEM public key (`baken audit public-key`), obtained through a trusted channel")
    args = parser.parse_args(argv)
    try:
        checkpoint = json.loads(args.checkpoint.read_text(encoding="utf-8"))
        print(verify_export(args.export.read_bytes(), checkpoint, args.public_key.read_bytes()))
    except (OSError, ValueError) as exc:
        print(f"FAILED: cannot read the input: {exc}", file=sys.stderr)
        return 1
    except Invalid as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
