"""Folder sync as the scheduled job of a real `baken serve` (subprocess, real models): it runs at start when
no run is on record, the Documenten page shows it, "Nu synchroniseren" picks up a new file, and every synced
document is a document.sync record in the audit chain."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.paths import MODELS_DIR, REPO
from tests.servers import free_port

pytestmark = pytest.mark.slow
PASSWORD = "mapsynchronisatie-wachtwoord"


def _baken(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "baken"), *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _wait_for(client: httpx.Client, pattern: str, seconds: float = 240) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        html = client.get("/documents/sync").text
        if re.search(pattern, html, re.DOTALL) and "Bezig sinds" not in html and "start zo" not in html:
            return html
        time.sleep(0.5)
    raise AssertionError(f"{pattern!r} did not appear on the page: {html}")


def test_the_server_syncs_its_folder_on_schedule_and_when_asked(tmp_path: Path) -> None:
    share = tmp_path / "share"
    (share / "verkeer").mkdir(parents=True)
    (share / "verkeer" / "parkeren.md").write_text("# Parkeren\n\nEen parkeervergunning kost veertig euro.\n",
                                                   encoding="utf-8")
    (share / "kapot.docx").write_bytes(b"PK\x03\x04 kapot")
    (share / "~$parkeren.docx").write_bytes(b"slot")
    port = free_port()
    env = {**os.environ, "BAKEN_DATA_DIR": str(tmp_path / "data"), "BAKEN_MODELS_DIR": str(MODELS_DIR),
           "BAKEN_INGESTION__SYNC_DIR": str(share), "BAKEN_INGESTION__SYNC_INTERVAL_MINUTES": "60",
           "BAKEN_WEB__SECURE_COOKIES": "false", "BAKEN_LLM__N_CTX": "2048", "TESTPW": PASSWORD}
    added = _baken(env, "users", "add", "info", "--role", "informatiebeheerder", "--password-env", "TESTPW")
    assert added.returncode == 0, added.stderr
    log = tmp_path / "serve.log"
    with log.open("ab") as out:
        server = subprocess.Popen([str(Path(sys.executable).parent / "baken"), "serve", "--no-demo", "--port",
                                   str(port)], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        with httpx.Client(base_url=url, timeout=30) as client:
            login = client.post("/login", data={"name": "info", "password": PASSWORD,
                                                "csrf_token": _csrf(client.get("/login").text)})
            assert login.status_code == 303, login.text
            csrf = _csrf(client.get("/documents").text)
            first = _wait_for(client, r"<td>schema</td>\s*<td>klaar</td>")
            assert "Elke 60 minuten." in first and "Volgende synchronisatie" in first
            assert re.search(r"<td>1</td>(\s*<td>0</td>){4}\s*<td>1</td>", first), first  # 1 new ... 1 failed
            assert "kapot.docx" in first

            (share / "verkeer" / "afval.md").write_text("# Afval\n\nDe groene bak gaat elke week.\n",
                                                        encoding="utf-8")
            asked = client.post("/documents/sync/now", data={"csrf_token": csrf})
            assert asked.status_code == 303
            second = _wait_for(client, r"<td>informatiebeheerder</td>\s*<td>klaar</td>")
            assert re.search(r"<td>informatiebeheerder</td>\s*<td>klaar</td>\s*<td>1</td>", second), second
            assert "Afval" in client.get("/documents").text
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    exported = _baken(env, "audit", "export", "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    synced = [r["record"] for r in map(json.loads, exported.stdout.splitlines())
              if r.get("record", {}).get("action") == "document.sync"]
    assert [(r["role"], r["outcome"]) for r in synced].count(("systeem", "ok")) == 1
    assert ("informatiebeheerder", "ok") in [(r["role"], r["outcome"]) for r in synced]
    assert any(r["outcome"] == "failed" for r in synced)
    assert all("baken.document.name" in r for r in synced)  # the file name, checked for personal data
    verified = _baken(env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
