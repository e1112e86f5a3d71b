"""Addresses of the OpenAI-compatible servers Baken talks to (a model server, an embedding server)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def v1_base(url: str) -> str:
    """The '/v1' base of a server URL given with or without it."""
    parts = urlsplit(url.rstrip("/"))
    path = parts.path if parts.path.endswith("/v1") else parts.path + "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
