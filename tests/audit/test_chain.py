"""The chain's byte-level rules, which tools/verify_audit_export.py repeats."""

from __future__ import annotations

import hashlib

import pytest

from assistant.audit.chain import GENESIS_HEAD, canonical_json, commitment, next_head


def test_canonical_json_sorts_keys_is_compact_and_keeps_non_ascii() -> None:
    assert canonical_json({"b": 1, "a": [1.5, "é", None]}) == '{"a":[1.5,"é",null],"b":1}'.encode()


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"score": float("nan")})


def test_numpy_style_scalars_become_plain_numbers_and_other_objects_are_refused() -> None:
    class Float32:
        def item(self) -> float:
            return 0.25

    assert canonical_json({"score": Float32()}) == b'{"score":0.25}'
    with pytest.raises(TypeError):
        canonical_json({"when": object()})


def test_the_head_hashes_the_previous_head_then_the_record_hash() -> None:
    record_hash = hashlib.sha256(b"{}").digest()
    assert GENESIS_HEAD == bytes(32)
    assert next_head(GENESIS_HEAD, record_hash) == hashlib.sha256(bytes(32) + record_hash).digest()


def test_the_commitment_hashes_salt_then_content() -> None:
    assert commitment(b"s" * 32, b'{"q":1}') == hashlib.sha256(b"s" * 32 + b'{"q":1}').digest()
