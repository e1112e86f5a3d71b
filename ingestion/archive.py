"""ZIP containers (DOCX and other Office formats) checked before any parser opens them: member count, the
declared uncompressed sizes, the compression ratio and the sizes as actually inflated, each against a limit.

A decompression bomb is refused here, in a bounded amount of work, rather than by running out of memory
inside a parser. Python's zipfile never inflates a member past its declared size (it fails the CRC check
instead), so the actual-size pass is a second line of defence that stops at the limit.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from core.errors import DocumentError

MB = 1024 * 1024
RATIO_FLOOR = MB  # members smaller than this are never refused for their ratio (small XML compresses well)
READ_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """How far a ZIP container may unpack."""

    max_unpacked_bytes: int = 500 * MB
    max_ratio: int = 100
    max_members: int = 10_000


def open_zip(data: bytes) -> zipfile.ZipFile:
    """The archive in ``data``; DocumentError (in Dutch) when it is damaged."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise DocumentError("beschadigd ZIP-bestand: de inhoudsopgave is onleesbaar") from exc


def check_zip(archive: zipfile.ZipFile, limits: ZipLimits) -> None:
    """Refuse a container with too many members, too much declared or actual content, or a bomb's ratio."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise DocumentError(f"het bestand bevat meer dan {limits.max_members} onderdelen")
    declared = sum(m.file_size for m in members)
    if declared > limits.max_unpacked_bytes:
        raise DocumentError(_too_large(limits))
    for member in members:
        if member.file_size > RATIO_FLOOR and member.file_size > limits.max_ratio * max(member.compress_size, 1):
            raise DocumentError(f"het bestand is verdacht sterk samengeperst (meer dan {limits.max_ratio}:1);"
                                " mogelijk een zip-bom")
    _check_actual_size(archive, members, limits)


def _check_actual_size(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Inflate every member in blocks, counting, and stop as soon as the total passes the limit."""
    total = 0
    for member in members:
        if member.is_dir():
            continue
        try:
            with archive.open(member) as stream:
                while block := stream.read(READ_BLOCK):
                    total += len(block)
                    if total > limits.max_unpacked_bytes:
                        raise DocumentError(_too_large(limits))
        except DocumentError:
            raise
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError, EOFError) as exc:
            # NotImplementedError: an unknown compression method; RuntimeError: an encrypted member.
            raise DocumentError("beschadigd of versleuteld ZIP-bestand: een onderdeel is niet uit te pakken") \
                from exc


def _too_large(limits: ZipLimits) -> str:
    return f"het bestand pakt uit tot meer dan {limits.max_unpacked_bytes // MB} MB"
