"""Signed checkpoints: {seq, head, time} signed with the log's Ed25519 key, stored and exportable as a file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.audit.chain import canonical_json
from core.errors import UserError

CHECKPOINT_FORMAT = "baken-audit-checkpoint/1"


@dataclass(frozen=True)
class Checkpoint:
    """The chain head at `seq`, signed; `head` and `signature` are lowercase hex."""

    seq: int
    head: str
    time: str
    key_id: str
    signature: str

    def body(self) -> bytes:
        """The signed bytes: the canonical JSON of the checkpoint without its signature."""
        return signed_body(self.seq, self.head, self.time, self.key_id)

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint file's JSON object."""
        return {"checkpoint": json.loads(self.body()), "signature": self.signature}

    def write(self, path: Path) -> None:
        """Write the checkpoint file (canonical JSON and a newline)."""
        path.write_bytes(canonical_json(self.to_dict()) + b"\n")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        """Read a checkpoint file's JSON object."""
        try:
            body = data["checkpoint"]
            if body["format"] != CHECKPOINT_FORMAT:
                raise UserError(f"not a Baken audit checkpoint (format {body['format']!r})")
            return cls(seq=int(body["seq"]), head=str(body["head"]), time=str(body["time"]),
                       key_id=str(body["key_id"]), signature=str(data["signature"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"the checkpoint file is malformed ({exc}); export a new one with "
                            "`baken audit checkpoint --output FILE`") from exc

    @classmethod
    def read(cls, path: Path) -> Checkpoint:
        """Read a checkpoint file."""
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"cannot read the checkpoint file {path}: {exc}") from exc


def signed_body(seq: int, head: str, time: str, key_id: str) -> bytes:
    """The bytes a checkpoint's signature covers."""
    return canonical_json({"format": CHECKPOINT_FORMAT, "seq": seq, "head": head, "time": time, "key_id": key_id})
