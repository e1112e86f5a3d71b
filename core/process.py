"""Which process is this, and is another one still running: the owner of unfinished work (a half-indexed
document, an upload being indexed) that other processes sharing the database must not take for a crash.

An owner is its host, its pid and its start time (clock ticks after boot, from /proc): a later process given
the same pid, as in a restarted container, is not taken for the one that died. The host includes the PID
namespace, because two containers with host networking share a host name but not their pids. Only an owner
on this host can be checked; for one elsewhere, the callers use a heartbeat.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)
PRIVATE_UMASK = 0o077  # files 0600, directories 0700: only Baken's own user reads what it writes


@dataclass(frozen=True)
class Owner:
    """A server process: its host, pid and start time (so that a later process given the same pid, as in a
    restarted container, is not taken for the one that died)."""

    host: str
    pid: int
    started: int  # clock ticks after boot, from /proc; 0 where that is unknown

    @staticmethod
    def this_process() -> Owner:
        """The process we run in."""
        return Owner(this_host(), os.getpid(), start_ticks(os.getpid()) or 0)

    def running(self) -> bool:
        """Whether the process still runs; asked on its own host."""
        ticks = start_ticks(self.pid)
        if ticks is not None:
            return ticks >= 0 and (not self.started or ticks == self.started)
        if Path("/proc/self/stat").exists():
            return False  # Linux without a /proc entry for the pid: no such process
        if os.name == "nt":
            return True  # no harmless probe (os.kill would terminate it): the heartbeat decides
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def this_host() -> str:
    """The host name, on Linux with the PID namespace within which pids mean something: two containers with
    host networking share a host name, not their pids."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/{namespace.strip('pid:[]')}"


def start_ticks(pid: int) -> int | None:
    """When a process started (field 22 of /proc/PID/stat); -1 for a zombie; None without such a file."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        state, *rest = stat.rsplit(")", 1)[1].split()
        return -1 if state in ("Z", "X") else int(rest[18])
    except (OSError, IndexError, ValueError):
        return None


def keep_private(data_dir: Path) -> None:
    """From now on, everything this process (and its children) creates is its own user's alone (0700
    directories, 0600 files: the web and audit databases, the index, the originals, the keys); and the data
    directory itself is closed to others, which also covers files an older version created with looser modes.

    Not for `baken models provision`: a container image provisions the models as root for another user."""
    os.umask(PRIVATE_UMASK)
    try:
        if data_dir.is_dir() and data_dir.stat().st_mode & 0o077 and data_dir.stat().st_uid == os.getuid():
            data_dir.chmod(0o700)
    except OSError as exc:
        logger.warning("cannot close the data directory to other users: %s", type(exc).__name__)
