"""The hostile-file suite: bombs, loops, deep nesting, pathological text, bad encodings and hostile names,
through `baken ingest` (a subprocess) and through the web upload of a real `baken serve` on loopback.

Each refused file gives its Dutch reason; the accepted ones are indexed; /healthz answers within 1 s all
along; the server's RSS grows by less than 500 MB; afterwards the index lists exactly the accepted documents,
the audit chain verifies, and neither the audit log nor the server's log holds the citizen's name of a file
name. Small limits (BAKEN_INGESTION__*) keep it fast; the files are generated, never committed.
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.hostile.files import ACCEPTED, FILES, SLOW, Hostile, write_all
from tests.paths import REPO
from tests.servers import free_port

pytestmark = pytest.mark.slow  # the real embedder and model in the subprocesses
LIMITS = {"BAKEN_INGESTION__MAX_UNPACKED_MB": "50", "BAKEN_INGESTION__PARSE_MEMORY_MB": "256",
          "BAKEN_INGESTION__MAX_TEXT_MB": "5"}
PASSWORD = "vijandige-bestanden-wachtwoord"
CITIZEN = "Vries"  # of "Jan de Vries bezwaar.md"
ESCAPE_NAME = "rood\x1b[31m.txt"  # a terminal escape in a file name: refused (binary), printed harmlessly
HEALTH_SECONDS = 1.0
RSS_GROWTH_MB = 500


def _environment(data: Path, models_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "BAKEN_DATA_DIR": str(data), "BAKEN_MODELS_DIR": str(models_dir), **LIMITS, **extra}


def _baken(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "baken"), *args]
    return subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "bestanden"
    write_all(folder, [*FILES, SLOW, *ACCEPTED])
    (folder / ESCAPE_NAME).write_bytes(bytes(range(256)) * 8)
    return folder


def _after(env: dict[str, str]) -> None:
    """The index lists exactly the accepted documents and the audit chain verifies."""
    listed = _baken(env, "documents", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert sorted(d["name"] for d in json.loads(listed.stdout)) == sorted(h.name for h in ACCEPTED)
    verified = _baken(env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_baken_ingest_refuses_each_hostile_file_with_its_dutch_reason(hostile_dir: Path, tmp_path: Path,
                                                                      models_dir: Path) -> None:
    env = _environment(tmp_path / "data", models_dir, BAKEN_INGESTION__PARSE_CPU_SECONDS="2")
    started = time.monotonic()
    result = _baken(env, "ingest", "--quiet", str(hostile_dir))
    seconds = time.monotonic() - started
    errors = [line for line in result.stderr.splitlines() if line.startswith("baken: ")]
    expected = [*FILES, Hostile(SLOW.name, "verwerken kostte meer dan 2 s rekentijd", SLOW.make),
                Hostile("rood?[31m.txt", "binaire inhoud", bytes)]
    for hostile in expected:
        assert any(f"/{hostile.name}: " in line and hostile.reason in line for line in errors), (hostile, errors)
    assert len(errors) == len(expected) and "\x1b" not in result.stderr
    assert result.returncode == 1
    assert f"{len(ACCEPTED)} documents indexed ({len(ACCEPTED)} new" in result.stdout
    assert f"{len(expected)} failed" in result.stdout
    _after(env)
    print(f"\nbaken ingest of {len(expected) + len(ACCEPTED)} hostile files: {seconds:.1f} s")


@dataclass
class Watch:
    """/healthz latency and the server's RSS, sampled in a thread while the uploads are indexed."""

    url: str
    pid: int
    latencies: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    if client.get(self.url + "/healthz").status_code != 200:
                        self.failures.append("status")
                except httpx.HTTPError as exc:
                    self.failures.append(type(exc).__name__)
                self.latencies.append(time.monotonic() - started)
                self.rss_mb.append(_rss_mb(self.pid))
                self.stop.wait(0.1)


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes],
                                                                                          dict[str, str], Path]]:
    root = tmp_path_factory.mktemp("hostile-server")
    port = free_port()
    env = _environment(root / "data", models_dir, BAKEN_INGESTION__PARSE_SECONDS="5",
                       BAKEN_WEB__SECURE_COOKIES="false", BAKEN_TEST_PASSWORD=PASSWORD, BAKEN_LLM__N_CTX="2048")
    added = _baken(env, "users", "add", "info", "--role", "informatiebeheerder", "--password-env",
                   "BAKEN_TEST_PASSWORD")
    assert added.returncode == 0, added.stderr
    log = root / "serve.log"
    with log.open("ab") as out:
        process = subprocess.Popen([str(Path(sys.executable).parent / "baken"), "serve", "--no-demo", "--port",
                                    str(port)], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"baken serve did not start: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    try:
        yield url, process, env, log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _log_in(client: httpx.Client) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = client.post("/login", data={"name": "info", "password": PASSWORD, "csrf_token": csrf})
    assert answer.status_code == 303, answer.text
    documents = client.get("/documents")
    return re.search(r'name="csrf_token" value="([^"]+)"', documents.text).group(1)  # type: ignore[union-attr]


def _job_rows(client: httpx.Client) -> dict[str, tuple[str, str, str]]:
    """Job id -> (status class, shown name, shown status text)."""
    page = client.get("/documents/jobs").text
    rows = re.findall(r'<tr class="job job-(\w+)" data-job="([0-9a-f]+)">\s*<td>(.*?)</td>\s*<td>(.*?)</td>', page,
                      re.DOTALL)
    return {job: (status, html.unescape(name), " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()))
            for status, job, name, text in rows}


def test_web_upload_refuses_each_hostile_file_while_the_server_stays_responsive(
        server: tuple[str, subprocess.Popen[bytes], dict[str, str], Path], hostile_dir: Path) -> None:
    url, process, env, log = server
    client = httpx.Client(base_url=url, timeout=60, follow_redirects=False)
    csrf = _log_in(client)
    expected = {h.name: h.reason for h in FILES} | {SLOW.name: "verwerken duurde langer dan 5 s"}
    # Hostile names for files that are refused anyway: a path out of the upload directory, control characters.
    renamed = {"../../etc/passwd.txt": "binair.txt", "a\x00b\n\r\x1b[31m.md": "kapotte-bom.md",
               "x" * 300 + ".txt": "leeg-utf16.txt"}
    uploads = {name: name for name in [*expected, *(h.name for h in ACCEPTED)] if name not in renamed.values()}
    uploads |= renamed
    watch = Watch(url, process.pid)
    thread = threading.Thread(target=watch.run, daemon=True)
    baseline = _rss_mb(process.pid)
    thread.start()
    started = time.monotonic()
    jobs: dict[str, str] = {}
    try:
        for sent, stored in uploads.items():
            answer = client.put("/documents/upload", content=(hostile_dir / stored).read_bytes(),
                                headers={"X-CSRF-Token": csrf, "X-File-Name": quote(sent),
                                         "Content-Type": "application/octet-stream"})
            assert answer.status_code == 202, (sent, answer.text)
            jobs[answer.json()["job"]] = stored
            assert "/" not in answer.json()["name"] and "\x1b" not in answer.json()["name"]
        deadline = time.monotonic() + 300
        while True:
            rows = _job_rows(client)
            if all(rows.get(job, ("queued",))[0] in ("done", "failed") for job in jobs):
                break
            assert time.monotonic() < deadline, rows
            time.sleep(0.5)
        seconds = time.monotonic() - started
    finally:
        watch.stop.set()
        thread.join()
    for job, stored in jobs.items():
        status, _, text = rows[job]
        if stored in expected:
            assert status == "failed" and text.startswith("mislukt: ") and expected[stored] in text, (stored, text)
        else:
            assert status == "done", (stored, text)
    assert not watch.failures and max(watch.latencies) < HEALTH_SECONDS, (watch.failures, max(watch.latencies))
    growth = max(watch.rss_mb) - baseline
    assert growth < RSS_GROWTH_MB

    process.send_signal(signal.SIGINT)
    process.wait(60)
    exported = _baken(env, "audit", "export", "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    uploads_logged = [r for r in map(json.loads, exported.stdout.splitlines()) if "document.upload" in json.dumps(r)]
    assert len(uploads_logged) == len(jobs)
    assert CITIZEN not in exported.stdout and CITIZEN not in log.read_text()
    _after(env)
    print(f"\nweb upload of {len(jobs)} hostile files: {seconds:.1f} s; /healthz max {max(watch.latencies):.3f} s "
          f"over {len(watch.latencies)} probes; server RSS {baseline:.0f} MB -> peak {max(watch.rss_mb):.0f} MB "
          f"(+{growth:.0f} MB)")
