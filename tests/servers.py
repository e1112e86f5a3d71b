"""Helpers for tests (and benchmarks) that start real servers on loopback."""

from __future__ import annotations

import socket


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
