"""A folder as folder sync sees it: the files to mirror, each named by its path relative to the folder, and
what is left out and why (hidden files, office lock and temporary files, symlinks leading outside the folder).

Directory symlinks that stay inside the folder are followed once (a loop is not walked twice); a symlink that
resolves outside the folder, or to nothing, is skipped, so that a share cannot pull in /etc through a link.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import UserError

IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "Desktop.ini"})
TEMPORARY_PREFIXES = ("~$", ".~lock", "~WRL", "~lock.")  # Office owner files, LibreOffice locks, Word's temp files
TEMPORARY_SUFFIXES = (".tmp", ".temp", ".part", ".crdownload", ".partial", ".swp", "~")


@dataclass(frozen=True)
class FolderFile:
    """One file to mirror: its identity (the relative path, '/'-separated) and what cheap change detection reads."""

    path: str
    absolute: Path
    size: int
    mtime_ns: int


@dataclass
class FolderScan:
    """The files of a folder (sorted by path) and what was skipped, with the reason (Dutch, for the report)."""

    root: Path
    files: list[FolderFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def skip_reason(name: str) -> str | None:
    """Why a file or folder of this name is left out, or None when it is mirrored."""
    if name in IGNORED_NAMES:
        return "systeembestand"
    if name.startswith(TEMPORARY_PREFIXES) or name.endswith(TEMPORARY_SUFFIXES):
        return "tijdelijk bestand"
    if name.startswith("."):
        return "verborgen"
    return None


def relative_name(parts: tuple[str, ...]) -> str:
    """The identity of a file: its relative path with '/', an undecodable byte of a name kept as an escape."""
    return "/".join(os.fsencode(p).decode("utf-8", "backslashreplace") for p in parts)


def scan_folder(root: Path) -> FolderScan:
    """Walk ``root`` (recursively) and list what folder sync mirrors; UserError when it is not a folder."""
    if not root.is_dir():
        raise UserError(f"{root} is geen map (of niet leesbaar)")
    real_root = root.resolve()
    scan = FolderScan(root)
    seen: set[Path] = {real_root}
    _walk(root, (), real_root, seen, scan)
    scan.files.sort(key=lambda f: f.path)
    return scan


def _walk(directory: Path, parts: tuple[str, ...], real_root: Path, seen: set[Path], scan: FolderScan) -> None:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        scan.skipped.append((relative_name(parts) or ".", f"map niet leesbaar: {exc.strerror or exc}"))
        return
    for entry in entries:
        here = (*parts, entry.name)
        name = relative_name(here)
        reason = skip_reason(entry.name)
        if reason is not None:
            scan.skipped.append((name, reason))
            continue
        path = Path(entry.path)
        try:
            if entry.is_symlink():
                target = path.resolve(strict=True)
                if not target.is_relative_to(real_root):
                    scan.skipped.append((name, "koppeling naar buiten de map"))
                    continue
            info = path.stat()  # follows a link that stays inside
        except (OSError, RuntimeError) as exc:  # a dangling link, a loop of links, a file removed meanwhile
            scan.skipped.append((name, f"niet leesbaar: {getattr(exc, 'strerror', None) or exc}"))
            continue
        if stat.S_ISDIR(info.st_mode):
            real = path.resolve()
            if real in seen:
                continue  # reached again through a link: walked once already
            seen.add(real)
            _walk(path, here, real_root, seen, scan)
        elif stat.S_ISREG(info.st_mode):
            scan.files.append(FolderFile(name, path, info.st_size, info.st_mtime_ns))
        else:
            scan.skipped.append((name, "geen gewoon bestand"))
