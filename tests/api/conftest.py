"""A real `baken serve` (subprocess on loopback: real embedder, guardrails, index and audit log) over a capturing
fake model server, started once per module, and API keys made with the real `baken apikeys` command."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from bench.fake_model import FakeModelServer
from bench.load import BakenServer

HR_DOCUMENT = ("# Verzuimprotocol\n\nEen zieke medewerker meldt zich vóór 8.30 uur telefonisch ziek bij de leidinggevende. "
               "Na vier weken verzuim nodigt de casemanager de medewerker uit voor een gesprek met arbodienst "
               "Voorbeeldzorg.\n")
# The demo corpus into `algemeen` and the HR protocol into collection `hr`, before the server starts (one process
# writes the embedded index at a time).
PREPARE = """
import sys
from pathlib import Path
from baken.cli.chat import demo_corpus
from baken.settings import Settings
from baken.wiring import build_index
index = build_index(Settings())
index.ingest_files(sorted(demo_corpus().glob("*.md")))
index.collections.add("hr")
index.ingest_file(Path(sys.argv[1]), collection="hr")
"""


class Served:
    """The running server, its model server and data directory, and helpers to read what it wrote."""

    def __init__(self, server: BakenServer, model: FakeModelServer, data: Path) -> None:
        self.server, self.model, self.data = server, model, data
        self.url = f"{server.url}/v1"

    def add_key(self, name: str, *options: str) -> str:
        """A new key's token, from `baken apikeys add`."""
        done = self.server.baken("apikeys", "add", name, "--owner", "Team Test", "--purpose", "tests", *options)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    def key_row(self, name: str) -> dict[str, Any]:
        """The key as `baken apikeys list --json` shows it."""
        done = self.server.baken("apikeys", "list", "--json")
        assert done.returncode == 0, done.stderr
        return next(row for row in map(json.loads, done.stdout.splitlines()) if row["name"] == name)

    def audit_records(self) -> list[dict[str, Any]]:
        """Every audit record with its committed content (read straight from the SQLite log)."""
        with sqlite3.connect(self.data / "audit" / "audit.sqlite3") as conn:
            rows = conn.execute("SELECT r.record_json, c.content_json FROM records r LEFT JOIN content c"
                                " ON c.seq = r.seq ORDER BY r.seq").fetchall()
        return [{**json.loads(r), "content": json.loads(c) if c else None} for r, c in rows]

    def client(self, token: str, **options: Any) -> openai.OpenAI:
        """The official OpenAI client on this server, without its own retries (so tests see each refusal)."""
        return openai.OpenAI(base_url=self.url, api_key=token, max_retries=0, timeout=120, **options)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`baken serve` with the demo corpus (and an HR document in collection `hr`) and a small API waiting room
    (2) and body limit (64 KB)."""
    root = tmp_path_factory.mktemp("api-served")
    with FakeModelServer(delay_s=0.01) as model:
        server = BakenServer(root / "data", model.url, workers=1, log=root / "serve.log")
        server.env.update({"BAKEN_WEB__API_MAX_WAITING": "2", "BAKEN_WEB__API_MAX_REQUEST_KB": "64"})
        (root / "verzuimprotocol.md").write_text(HR_DOCUMENT, encoding="utf-8")
        prepared = subprocess.run([sys.executable, "-c", PREPARE, str(root / "verzuimprotocol.md")], env=server.env,
                                  capture_output=True, text=True, timeout=600, check=False)
        assert prepared.returncode == 0, prepared.stderr[-3000:]
        server.start()
        try:
            yield Served(server, model, root / "data")
        finally:
            server.stop()
