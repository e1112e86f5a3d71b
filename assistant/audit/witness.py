"""The witness: every signed checkpoint is also appended to a file outside the server's reach.

`BAKEN_AUDIT__WITNESS_DIR` names a directory that the web process can append to but not rewrite: an
append-only mount (`chattr +a` on the file, a WORM share) or a directory on a second host. Each checkpoint is
one line of `checkpoints.jsonl`: the canonical JSON of the checkpoint file's object, written with one
`write` on a descriptor opened with O_APPEND, then fsynced. Someone who later rewrites the log and signs new
checkpoints with the stolen key cannot change what the witness already holds, and `baken audit verify
--witness DIR` compares those heads with the chain.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from assistant.audit.chain import canonical_json
from assistant.audit.checkpoint import Checkpoint
from core.errors import AuditError, UserError

WITNESS_FILE = "checkpoints.jsonl"


def write_witness(directory: Path, checkpoint: Checkpoint) -> None:
    """Append `checkpoint` to the witness file in `directory` and fsync it; AuditError when that fails.

    The directory is never created: a missing one is a mount that failed, and writing beside it would put the
    witness back on the server."""
    if not directory.is_dir():
        raise AuditError(f"the audit witness directory {directory} does not exist or is not a directory "
                         "(BAKEN_AUDIT__WITNESS_DIR: mount it first)")
    path = directory / WITNESS_FILE
    line = canonical_json(checkpoint.to_dict()) + b"\n"
    try:
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            if os.write(fd, line) != len(line):  # one write, so that two writers' lines never interleave
                raise OSError("short write")
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:  # the new file's directory entry must survive a crash too
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as exc:
        raise AuditError(f"cannot append the checkpoint at seq {checkpoint.seq} to the audit witness "
                         f"{path}: {exc}") from exc


def read_witness(directory: Path) -> tuple[list[Checkpoint], tuple[str, ...]]:
    """The checkpoints the witness in `directory` holds, and notes; UserError when it cannot be read.

    A last line without its newline is a write cut off by a crash: it is left out, with a note. Any other
    line that is not a checkpoint is an error: nobody but Baken should write the witness."""
    if not directory.is_dir():
        raise UserError(f"the witness directory {directory} does not exist or is not a directory: give the "
                        "directory that BAKEN_AUDIT__WITNESS_DIR names (mounted), or its copy")
    path = directory / WITNESS_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise UserError(f"the witness directory {directory} holds no {WITNESS_FILE}: no checkpoint was ever "
                        "witnessed there (is BAKEN_AUDIT__WITNESS_DIR set for every Baken process?)") from exc
    except OSError as exc:
        raise UserError(f"cannot read the witness file {path}: {exc}") from exc
    lines = data.split(b"\n")
    notes: tuple[str, ...] = ()
    if lines[-1]:
        notes = (f"the last line of {path} is incomplete (a write cut off by a crash) and was left out",)
    checkpoints = []
    for number, raw in enumerate(lines[:-1], start=1):
        try:
            checkpoints.append(Checkpoint.from_dict(json.loads(raw.decode("utf-8"))))
        except (UnicodeDecodeError, ValueError, UserError, AttributeError) as exc:
            raise UserError(f"line {number} of the witness file {path} is not a checkpoint: the witness was "
                            f"written by something other than Baken ({exc})") from exc
    return checkpoints, notes
