"""The restricted-document suite through the web: a document in `hr` never reaches a user outside `hr` — not in
the answer, the evidence, the sources, the source view, the download, the documents page (list, search, jobs),
nor the history once it is moved out of reach — and is found for a user inside it. Plus a route × role ×
collection table and the administrator's collections page."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from litestar.testing import TestClient

from assistant.audit import AuditLog, AuditSettings
from assistant.journal import AuditJournal
from assistant.llm import FakeLLM
from assistant.turn import Assistant, NoRedaction
from baken.settings import Settings
from baken.wiring import Services
from ingestion.embedder import FakeEmbedder
from ingestion.index import Index
from ingestion.registry import Registry
from ingestion.store import FakeStore
from tests.web.conftest import BASE_URL, PASSWORD, log_in
from tests.web.test_chat import _ask, _events
from web.app import build_accounts, create_app

SECRET = "re-integratiedossier"  # a word only the hr document holds
HR_TEXT = f"# Verzuimprotocol\n\nHet {SECRET} van een zieke medewerker bewaart personeelszaken twee jaar.\n"
QUESTION = f"Hoe lang wordt het {SECRET} bewaard?"


@pytest.fixture
def world(tmp_path: Path):
    """An app whose index holds an open document and one in `hr`; anna reads hr, bert does not."""
    data = tmp_path / "data"
    data.mkdir()
    settings = Settings(data_dir=data)
    index = Index(FakeEmbedder(), FakeStore(), Registry(data / "index.sqlite3"), data / "documents",
                  settings.ingestion)
    index.collections.add("hr", "Personeelszaken")
    index.collections.grant("hr", "team-hr")
    (data / "verzuim.md").write_text(HR_TEXT, encoding="utf-8")
    (data / "parkeren.md").write_text("# Parkeren\n\nEen parkeervergunning kost veertig euro.\n", encoding="utf-8")
    hr = index.ingest_file(data / "verzuim.md", collection="hr")
    index.ingest_file(data / "parkeren.md")
    audit = AuditLog.open(AuditSettings(durable=False), data)
    assistant = Assistant(index, FakeLLM("Twee jaar [1]."), NoRedaction(), AuditJournal(audit), settings)
    services = Services(settings, index, assistant, audit=audit)
    accounts = build_accounts(settings)
    accounts.add_user("anna", ["medewerker", "informatiebeheerder"], PASSWORD, ["team-hr"])
    accounts.add_user("bert", ["medewerker", "informatiebeheerder"], PASSWORD)
    accounts.add_user("admin", ["beheerder"], PASSWORD)
    accounts.add_user("auditor", ["auditor"], PASSWORD)
    app = create_app(settings, services)
    app.state.open_id = next(d.doc_id for d in index.documents() if d.title == "Parkeren")
    yield app, services, hr.doc_id
    app.state.baken.chat.close()
    app.state.baken.indexer.close()
    services.close()


def client_of(app, name: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url=BASE_URL)
    return client, log_in(client, name)


def ask(client: TestClient, csrf: str, question: str = QUESTION) -> tuple[str, str, str]:
    turn, conversation = _ask(client, csrf, question)
    return turn, conversation, "".join(data for _, data in _events(client, turn))


def test_a_user_outside_hr_never_sees_the_hr_document(world) -> None:
    app, services, hr_id = world
    bert, csrf = client_of(app, "bert")
    turn, conversation, streamed = ask(bert, csrf)
    assert SECRET not in streamed.replace(QUESTION, "") and "Verzuimprotocol" not in streamed
    page = bert.get(f"/chat/{conversation}").text
    assert SECRET not in page.replace(QUESTION, "") and "Verzuimprotocol" not in page
    for n in range(1, 5):
        source = bert.get(f"/chat/turns/{turn}/sources/{n}")
        assert source.status_code in (200, 404) and SECRET not in source.text
    assert bert.get(f"/documents/{hr_id}/original").status_code == 404
    documents = bert.get("/documents").text + bert.get("/documents/list?q=verzuim").text
    assert "Verzuimprotocol" not in documents and "verzuim.md" not in documents
    assert bert.post(f"/documents/{hr_id}/delete", data={"csrf_token": csrf},
                     headers={"HX-Request": "true"}).status_code == 404
    assert bert.post(f"/documents/{hr_id}/move", data={"csrf_token": csrf, "collection": "algemeen"}).status_code == 404
    assert bert.post(f"/documents/{hr_id}/reindex", data={"csrf_token": csrf}).status_code == 404
    assert services.index.documents({"hr"})[0].collection == "hr"  # nothing above changed it


def test_a_user_in_hr_finds_it_and_may_download_it(world) -> None:
    app, _, hr_id = world
    anna, csrf = client_of(app, "anna")
    _, conversation, streamed = ask(anna, csrf)
    assert SECRET in streamed.replace(QUESTION, "")
    assert "Verzuimprotocol" in anna.get(f"/chat/{conversation}").text
    assert anna.get(f"/documents/{hr_id}/original").content == HR_TEXT.encode()
    assert "Verzuimprotocol" in anna.get("/documents/list?q=verzuim").text


def test_the_history_withholds_a_source_once_it_is_moved_out_of_reach(world) -> None:
    app, services, hr_id = world
    anna, csrf = client_of(app, "anna")
    turn, conversation, _ = ask(anna, csrf)
    services.index.collections.revoke("hr", "team-hr")  # anna's group loses hr: at once, for the history too
    page = anna.get(f"/chat/{conversation}").text
    assert "Verzuimprotocol" not in page and "twee jaar" not in page and "afgeschermd" in page
    source = anna.get(f"/chat/turns/{turn}/sources/1").text
    assert SECRET not in source and "collectie die u niet mag lezen" in source
    assert anna.get(f"/documents/{hr_id}/original").status_code == 404


def test_an_upload_goes_into_the_chosen_collection_and_only_into_one_the_user_reads(world) -> None:
    app, services, _ = world
    bert, csrf = client_of(app, "bert")
    refused = bert.put("/documents/upload", content=b"# Geheim\n\ntekst", headers={
        "X-CSRF-Token": csrf, "X-File-Name": "geheim.md", "X-Collection": "hr"})
    assert refused.status_code == 403 and "collectie" in refused.json()["message"]
    anna, csrf = client_of(app, "anna")
    queued = anna.put("/documents/upload", content=b"# Nieuw\n\nEen nieuw hr-document.", headers={
        "X-CSRF-Token": csrf, "X-File-Name": "nieuw.md", "X-Collection": "hr"})
    assert queued.status_code == 202
    for _ in range(200):
        if any(d.title == "Nieuw" for d in services.index.documents({"hr"})):
            break
        time.sleep(0.05)
    assert [d.collection for d in services.index.documents() if d.title == "Nieuw"] == ["hr"]
    jobs = bert.get("/documents/jobs").text
    assert "nieuw.md" not in jobs  # a file name may say what a closed collection holds


def test_moving_a_document_takes_effect_at_once_and_is_logged(world) -> None:
    app, services, hr_id = world
    anna, csrf = client_of(app, "anna")
    moved = anna.post(f"/documents/{hr_id}/move", data={"csrf_token": csrf, "collection": "algemeen"})
    assert moved.status_code in (200, 303)
    bert, csrf_b = client_of(app, "bert")
    _, _, streamed = ask(bert, csrf_b)
    assert SECRET in streamed.replace(QUESTION, "")
    logged = services.audit.search(action="document.move", limit=5)
    assert logged and json.loads(logged[0].record_json)["baken.collection"] == "algemeen"


def test_route_role_table(world) -> None:
    app, _, _ = world
    allowed = {("bert", "/admin/collections"): False, ("anna", "/admin/collections"): False,
               ("admin", "/admin/collections"): True, ("admin", "/documents"): False,
               ("bert", "/documents"): True, ("anna", "/documents"): True}
    clients = {name: client_of(app, name)[0] for name in ("anna", "bert", "admin")}
    found = {(name, path): clients[name].get(path, follow_redirects=False).status_code == 200
             for name, path in allowed}
    assert found == allowed


# Who gets what of a document, by the document's collection: 200 (or 303 after a change), 404 (it does not
# exist for them), 403 (the role may not use the route at all).
TABLE = {  # (route, document) -> {user: status}
    ("original", "hr"): {"anna": 200, "bert": 404, "auditor": 404, "admin": 403},
    ("original", "open"): {"anna": 200, "bert": 200, "auditor": 200, "admin": 403},
    ("reindex", "hr"): {"anna": 303, "bert": 404, "auditor": 403, "admin": 403},
    ("reindex", "open"): {"anna": 303, "bert": 303, "auditor": 403, "admin": 403},
    ("move", "hr"): {"anna": 303, "bert": 404, "auditor": 403, "admin": 403},
    ("delete", "hr"): {"anna": 303, "bert": 404, "auditor": 403, "admin": 403},
}


@pytest.mark.parametrize(("route", "document"), list(TABLE))
def test_route_role_collection_table(world, route: str, document: str) -> None:
    app, _, hr_id = world
    doc = hr_id if document == "hr" else app.state.open_id
    found = {}
    for name in ("bert", "auditor", "admin", "anna"):  # anna last: her change may remove the document
        client, csrf = client_of(app, name)
        if route == "original":
            found[name] = client.get(f"/documents/{doc}/original").status_code
        else:
            data = {"csrf_token": csrf, "collection": "algemeen", "confirmed": "yes"}
            found[name] = client.post(f"/documents/{doc}/{route}", data=data, follow_redirects=False).status_code
    assert found == TABLE[(route, document)]


def test_the_administrator_adds_grants_and_revokes_collections(world) -> None:
    app, services, _ = world
    admin, csrf = client_of(app, "admin")
    page = admin.post("/admin/collections/add", data={"csrf_token": csrf, "name": "jeugd", "title": "Jeugdzorg"})
    assert page.status_code == 200 and "Jeugdzorg" in page.text
    assert admin.post("/admin/collections/grant", data={"csrf_token": csrf, "collection": "jeugd",
                                                        "group": "team-jeugd"}).status_code == 200
    assert services.index.collections.readable(["team-jeugd"]) == {"algemeen", "jeugd"}
    assert admin.post("/admin/collections/revoke", data={"csrf_token": csrf, "collection": "jeugd",
                                                         "group": "team-jeugd"}).status_code == 200
    assert services.index.collections.readable(["team-jeugd"]) == {"algemeen"}
    bad = admin.post("/admin/collections/add", data={"csrf_token": csrf, "name": "Niet Goed"})
    assert bad.status_code == 400 and "ongeldige collectienaam" in bad.text
    actions = [r.action for r in services.audit.search(limit=50)]
    assert {"collection.add", "collection.grant", "collection.revoke"} <= set(actions)
    assert re.search(r"<h1>Collecties</h1>", admin.get("/admin/collections").text)
