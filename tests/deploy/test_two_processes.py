"""Scale-out on loopback, against real servers: one model server (`llama_cpp.server`), one Chroma server and
one PostgreSQL.

- One host: two `baken serve` processes share a BAKEN_DATA_DIR (SQLite state) and the PostgreSQL audit log.
- Two hosts: two processes with a data directory each keep all shared state in PostgreSQL
  (BAKEN_DATABASE__DSN): sessions, accounts, conversations, indexing jobs, the document registry and
  originals, and the audit chain. Only the BM25 index is per host (rebuilt from Chroma's chunk texts).
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from bench.chat import WebClient
from tests.assistant.test_openai_llm import GGUF, ModelServer
from tests.paths import MODELS_DIR, REPO
from tests.servers import ChromaServer, free_port

pytestmark = pytest.mark.slow
PASSWORD = "twee-processen-wachtwoord"
HR_FACT = "dertig maanden"
HR_DOCUMENT = ("# Verzuimdossier\n\nPersoneelszaken bewaart het re-integratiedossier van een zieke medewerker"
               f" {HR_FACT} na het herstel.\n")
HR_QUESTION = "Hoe lang bewaart personeelszaken het re-integratiedossier?"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, postgres_dsn: str) -> Iterator[dict[str, str]]:
    """The shared servers, and the environment that points a Baken process at them."""
    if not GGUF.exists():
        pytest.fail(f"{GGUF} is missing: run `make test`")
    pytest.importorskip("sse_starlette", reason="llama-cpp-python[server] extra is not installed")
    root = tmp_path_factory.mktemp("scale-out")
    model = ModelServer(free_port(), root / "model.log")
    chroma = ChromaServer(root / "chroma")
    model.start()
    chroma.start()
    schema = f"two_processes_{os.getpid()}"
    env = {**os.environ, "BAKEN_DATA_DIR": str(root / "data"), "BAKEN_MODELS_DIR": str(MODELS_DIR),
           "BAKEN_LLM__BACKEND": "remote", "BAKEN_LLM__URL": model.url, "BAKEN_LLM__N_CTX": "2048",
           "BAKEN_LLM__MAX_TOKENS": "24", "BAKEN_INDEX__URL": chroma.url, "BAKEN_AUDIT__DSN": postgres_dsn,
           "BAKEN_AUDIT__PG_SCHEMA": schema, "BAKEN_WEB__SECURE_COOKIES": "false",
           "BAKEN_ADMIN_PASSWORD": PASSWORD, "TESTPW": PASSWORD}
    try:
        yield env
    finally:
        model.kill()
        chroma.stop()


def baken(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "baken"), *args]
    return subprocess.run(command, check=False, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen([str(Path(sys.executable).parent / "baken"), "serve", "--no-demo",
                                    "--port", str(port)], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"baken serve exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    pytest.fail(f"baken serve was not ready in 180 s: {log.read_text()[-3000:]}")


def test_two_web_processes_share_servers_sessions_and_one_audit_chain(shared: dict[str, str],
                                                                      tmp_path: Path) -> None:
    ingested = baken(shared, "ingest", "--quiet", str(REPO / "baken" / "demo" / "thuiswerkbeleid.md"))
    assert ingested.returncode == 0, ingested.stderr
    added = baken(shared, "users", "add", "ambtenaar", "--role", "medewerker", "--password-env", "TESTPW")
    assert added.returncode == 0, added.stderr

    ports = [free_port(), free_port()]
    behind_proxy = {**shared, "BAKEN_WEB__TRUSTED_PROXIES": "127.0.0.1",  # the load balancer, here: loopback
                    "BAKEN_WEB__LOGIN_ADDRESS_ATTEMPTS": "5"}
    servers = [start_server(behind_proxy, port, tmp_path / f"serve-{port}.log") for port in ports]
    try:
        # Login rate limiting counts the client the load balancer names, not the load balancer itself.
        base = f"http://127.0.0.1:{ports[0]}"
        assert [_failed_login(base, f"onbekend-{n}", "10.9.9.9") for n in range(6)] == [401] * 5 + [429]
        assert _failed_login(base, "onbekend-6", "10.9.9.8") == 401

        first = WebClient(f"http://127.0.0.1:{ports[0]}", "ambtenaar", PASSWORD)
        second = WebClient(f"http://127.0.0.1:{ports[1]}", "ambtenaar", PASSWORD)
        # The session made by the first process is valid on the second (server-side sessions, shared store).
        crossed = httpx.get(f"http://127.0.0.1:{ports[1]}/chat", headers={"Cookie": first.cookie})
        assert crossed.status_code == 200 and "ambtenaar" in crossed.text

        questions = ["Hoeveel dagen per week mag ik thuiswerken?", "Wat is de thuiswerkvergoeding per dag?"]
        results = [client.ask(q) for q in questions for client in (first, second)]
        assert [r["error"] for r in results] == [None] * 4, results
        assert all(r["tokens"] > 0 for r in results)
    finally:
        for server in servers:
            server.terminate()
            server.wait(30)

    verified = baken(shared, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    exported = baken(shared, "audit", "export", "--format", "csv")
    assert exported.stdout.count("conversation.turn") == 4


def _failed_login(base: str, name: str, forwarded_for: str) -> int:
    """The status of a login with a wrong password, sent through a proxy that names the client."""
    with httpx.Client(base_url=base, timeout=30) as client:
        csrf = client.get("/login").cookies["baken_login_csrf"]
        return client.post("/login", data={"name": name, "password": "fout-wachtwoord", "next": "/",
                                           "csrf_token": csrf},
                           headers={"Cookie": f"baken_login_csrf={csrf}", "X-Forwarded-For": forwarded_for}
                           ).status_code


# --- two hosts ---------------------------------------------------------------------------------------------

def _hosts(shared: dict[str, str], root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Two hosts: a data directory each, everything else shared (PostgreSQL for all state, one key secret)."""
    run = uuid.uuid4().hex[:8]
    common = {**shared, "BAKEN_DATABASE__DSN": shared["BAKEN_AUDIT__DSN"], "BAKEN_DATABASE__PG_SCHEMA": f"state_{run}",
              "BAKEN_AUDIT__PG_SCHEMA": f"audit_{run}", "BAKEN_AUDIT__KEY_DIR": str(root / "audit-keys"),
              "BAKEN_INDEX__COLLECTION": f"hosts_{run}"}
    del common["BAKEN_AUDIT__DSN"]  # the audit log follows the shared database
    return ({**common, "BAKEN_DATA_DIR": str(root / "host-a")}, {**common, "BAKEN_DATA_DIR": str(root / "host-b")})


def _stream(client: httpx.Client, cookie: str, turn_id: str) -> tuple[list[str], str]:
    """The event names of a turn's SSE stream, and the `done` event's HTML."""
    events, event, done = [], "", ""
    with client.stream("GET", f"/chat/turns/{turn_id}/stream", headers={"Cookie": cookie}, timeout=300) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
                events.append(event)
            elif line.startswith("data:") and event == "done":
                done += line[5:]
            elif not line and event == "done":
                break
    return events, done


def _ask(client: httpx.Client, user: WebClient, question: str, conversation_id: str = "") -> tuple[str, str]:
    """POST a question the way htmx does; returns (turn id, conversation id)."""
    posted = client.post("/chat/ask", data={"question": question, "conversation_id": conversation_id},
                         headers={"Cookie": user.cookie, "HX-Request": "true", "X-CSRF-Token": user.csrf})
    assert posted.status_code == 200, posted.text
    turn = re.search(r"/chat/turns/([^/\"]+)/stream", posted.text)
    conversation = re.search(r'name="conversation_id" value="([^"]+)"', posted.text)
    assert turn and conversation, posted.text
    return turn.group(1), conversation.group(1)


def test_two_hosts_share_accounts_conversations_documents_and_the_audit_chain(shared: dict[str, str],
                                                                               tmp_path: Path) -> None:
    host_a, host_b = _hosts(shared, tmp_path)
    assert baken(host_a, "ingest", "--quiet", str(REPO / "baken" / "demo" / "thuiswerkbeleid.md")).returncode == 0
    # A restricted collection, made and filled on host A (its registry and grants in PostgreSQL, its chunks in
    # the Chroma server), read through host B.
    (tmp_path / "verzuim.md").write_text(HR_DOCUMENT, encoding="utf-8")
    for command in (("collections", "add", "hr"), ("collections", "grant", "hr", "--group", "team-hr"),
                    ("ingest", "--quiet", "--collection", "hr", str(tmp_path / "verzuim.md"))):
        done_ = baken(host_a, *command)
        assert done_.returncode == 0, done_.stderr
    for env, name, role, groups in ((host_b, "ambtenaar", "medewerker", ""),
                                    (host_a, "archivaris", "informatiebeheerder", ""),
                                    (host_a, "personeelsadviseur", "medewerker", "team-hr")):
        added = baken(env, "users", "add", name, "--role", role, "--groups", groups, "--password-env", "TESTPW")
        assert added.returncode == 0, added.stderr
    duplicate = baken(host_a, "users", "add", "Ambtenaar", "--role", "medewerker", "--password-env", "TESTPW")
    assert duplicate.returncode != 0  # one account store for both hosts

    ports = [free_port(), free_port()]
    servers = [start_server(env, port, tmp_path / f"serve-{port}.log") for env, port in zip((host_a, host_b), ports)]
    a, b = (httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) for port in ports)
    try:
        employee = WebClient(f"http://127.0.0.1:{ports[0]}", "ambtenaar", PASSWORD)
        assert b.get("/chat", headers={"Cookie": employee.cookie}).status_code == 200  # one session store

        # The hr document never answers a user outside hr, through host B; it does answer one inside.
        outsider_turn, _ = _ask(b, employee, HR_QUESTION)
        assert HR_FACT not in _stream(b, employee.cookie, outsider_turn)[1]
        insider = WebClient(f"http://127.0.0.1:{ports[1]}", "personeelsadviseur", PASSWORD)
        insider_turn, _ = _ask(b, insider, HR_QUESTION)
        assert HR_FACT in _stream(b, insider.cookie, insider_turn)[1]

        # A question posted to host A is followed to its end by a stream request that reaches host B.
        turn, conversation = _ask(a, employee, "Hoeveel dagen per week mag ik thuiswerken?")
        events, done = _stream(b, employee.cookie, turn)
        assert events[-1] == "done" and "thuiswerk" in done.lower(), (events, done)
        # The follow-up goes to host B, in the same conversation, and is answered there.
        follow_up, same = _ask(b, employee, "En hoeveel vergoeding krijg ik per dag?", conversation)
        assert same == conversation
        events, done = _stream(b, employee.cookie, follow_up)
        assert events[-1] == "done" and "turn_failed" not in done, done
        history = a.get(f"/chat/{conversation}", headers={"Cookie": employee.cookie})
        assert "thuiswerken" in history.text and "vergoeding" in history.text  # the history is shared too

        # A document uploaded on host B: its indexing job is seen from host A, then searched, opened and
        # deleted on host A, and gone on host B.
        manager = WebClient(f"http://127.0.0.1:{ports[1]}", "archivaris", PASSWORD)
        page = b.get("/documents", headers={"Cookie": manager.cookie})
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, page.text
        uploaded = b.put("/documents/upload", content=UPLOAD, headers={
            "Cookie": manager.cookie, "X-CSRF-Token": csrf.group(1), "X-File-Name": "fietsbeleid.md",
            "Content-Type": "application/octet-stream"})
        assert uploaded.status_code == 202, uploaded.text
        deadline = time.monotonic() + 120
        while "job-done" not in (jobs := a.get("/documents/jobs", headers={"Cookie": manager.cookie}).text):
            assert "job-failed" not in jobs and time.monotonic() < deadline, jobs
            time.sleep(0.5)
        listed = a.get("/documents/list", params={"q": "fiets"}, headers={"Cookie": manager.cookie}).text
        doc = re.search(r"/documents/([0-9a-f]{64})/original", listed)
        assert doc, listed
        original = a.get(f"/documents/{doc.group(1)}/original", headers={"Cookie": manager.cookie})
        assert original.status_code == 200 and original.content == UPLOAD
        bike, _ = _ask(a, employee, "Hoeveel fietsenstallingen heeft het gemeentehuis?")
        assert _stream(a, employee.cookie, bike)[0][-1] == "done"
        deleted = a.post(f"/documents/{doc.group(1)}/delete",
                         headers={"Cookie": manager.cookie, "X-CSRF-Token": csrf.group(1), "HX-Request": "true"})
        assert deleted.status_code == 200
        assert doc.group(1) not in b.get("/documents/list", headers={"Cookie": manager.cookie}).text

        # An API key made on host A works on host B (the official openai client, the real model behind it),
        # and its revocation on host A is refused by host B on the very next call.
        added = baken(host_a, "apikeys", "add", "word-add-in", "--owner", "DIV", "--purpose", "tests")
        assert added.returncode == 0, added.stderr
        api = openai.OpenAI(base_url=f"http://127.0.0.1:{ports[1]}/v1", api_key=added.stdout.split()[-1],
                            max_retries=0, timeout=120)
        answer = api.chat.completions.create(model="baken", messages=[
            {"role": "user", "content": "Hoeveel dagen per week mag ik thuiswerken?"}])
        assert answer.choices[0].message.content and answer.choices[0].message.model_extra["baken"]["sources"]
        streamed = "".join(c.choices[0].delta.content or "" for c in api.chat.completions.create(
            model="baken-guarded", stream=True, messages=[{"role": "user", "content": "Zeg hallo."}]) if c.choices)
        assert streamed.strip()
        assert baken(host_a, "apikeys", "revoke", "word-add-in").returncode == 0
        with pytest.raises(openai.AuthenticationError):
            api.models.list()
    finally:
        for server in servers:
            server.terminate()
            server.wait(30)
        a.close()
        b.close()

    verified = baken(host_b, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    exported = baken(host_a, "audit", "export", "--format", "csv")
    assert exported.stdout.count("conversation.turn") == 7  # five in the web, two through the API
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    asked = {r["event_id"] for r in rows if r["action"] == "conversation.question"}
    answered = {r["event_id"] for r in rows if r["action"] == "conversation.turn" and r["outcome"] == "answered"}
    assert answered and asked == answered  # every generated answer's question was logged before it
    assert exported.stdout.count("document.upload") == 1 and exported.stdout.count("document.delete") == 1
    # A host with its own audit key is refused rather than splitting the chain's signatures.
    stranger = baken({**host_b, "BAKEN_AUDIT__KEY_DIR": str(tmp_path / "other-keys")}, "audit", "verify")
    assert stranger.returncode != 0 and "same audit key directory" in stranger.stderr


UPLOAD = (b"# Fietsbeleid Gemeente Voorbeeld\n\nHet gemeentehuis heeft 120 fietsenstallingen. Medewerkers die met "
          b"de fiets komen, krijgen een vergoeding van 0,23 euro per kilometer.\n")
