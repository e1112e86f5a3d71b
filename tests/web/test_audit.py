"""The auditor's pages: filter, open one interaction, export, verify; the auditor's reads are logged too."""

from __future__ import annotations

import csv
import io
import json
import re

from baken.wiring import Services
from tests.web.test_chat import _ask, _events


def _one_turn(login) -> tuple[str, str]:
    client, csrf = login("medewerker")
    turn, conversation = _ask(client, csrf, "Wat kost een parkeervergunning?")
    _events(client, turn)
    return turn, conversation


def test_the_auditor_finds_a_turn_and_opens_it_with_its_sources(login, services: Services) -> None:
    _, conversation = _one_turn(login)
    auditor, _ = login("auditor")
    page = auditor.get("/audit?action=conversation.turn").text
    seq = re.search(r'href="/audit/records/(\d+)"', page).group(1)
    assert "conversation.turn" in page and "answered" in page
    record = auditor.get(f"/audit/records/{seq}").text
    assert "Wat kost een parkeervergunning?" in record and conversation in record
    assert "Parkeren" in record and "veertig euro per jaar" in record
    assert auditor.get("/audit/records/99999").status_code == 404


def test_a_turn_leaves_a_question_record_that_the_record_view_pairs_with_its_turn(login,
                                                                                   services: Services) -> None:
    _, conversation = _one_turn(login)
    records = services.audit.search(conversation_id=conversation)
    assert [r.action for r in records] == ["conversation.turn", "conversation.question"]
    turn, question = (json.loads(r.record_json) for r in records)
    assert turn["event_id"] == question["event_id"]
    auditor, _ = login("auditor")
    listed = auditor.get("/audit?action=conversation.question").text
    assert f'href="/audit/records/{question["seq"]}"' in listed and "started" in listed
    page = auditor.get(f"/audit/records/{question['seq']}").text
    assert "conversation.question" in page and "Wat kost een parkeervergunning?" in page
    assert "Parkeren" in page
    assert question["event_id"] in page and f'href="/audit/records/{turn["seq"]}"' in page
    assert "voordat het taalmodel de vraag kreeg" in page
    back = auditor.get(f"/audit/records/{turn['seq']}").text
    assert f'href="/audit/records/{question["seq"]}"' in back


def test_a_question_record_without_its_turn_record_says_the_outcome_is_missing(login,
                                                                                 services: Services) -> None:
    seq = services.audit.append("conversation.question", actor="someone", role="medewerker",
                                record={"event_id": "e-lost"}, content={"question": "Vraag"},
                                conversation_id="c-lost", outcome="started")
    auditor, _ = login("auditor")
    assert "zonder dat de uitkomst is vastgelegd" in auditor.get(f"/audit/records/{seq}").text


def test_filters_by_date_actor_document_and_outcome(login, services: Services) -> None:
    _one_turn(login)
    auditor, _ = login("auditor")
    today = services.audit.now()[:10]
    assert "conversation.turn" in auditor.get(f"/audit?since={today}&until={today}&action=conversation.turn").text
    assert "Geen records gevonden" in auditor.get("/audit?since=2001-01-01&until=2001-01-02").text
    assert "Geen records gevonden" in auditor.get("/audit?action=conversation.turn&outcome=error").text
    actor = json.loads(services.audit.search(action="conversation.turn")[0].record_json)["actor"]
    assert "conversation.turn" in auditor.get(f"/audit?actor={actor}&action=conversation.turn").text
    doc = services.index.documents()[0].doc_id
    assert "conversation.turn" in auditor.get(f"/audit?document={doc}").text
    assert auditor.get("/audit?since=niet-een-datum").status_code == 200


def test_exports_jsonl_and_csv_and_logs_the_export(login, services: Services) -> None:
    _one_turn(login)
    auditor, _ = login("auditor")
    jsonl = auditor.get("/audit/export?format=jsonl")
    assert jsonl.status_code == 200 and "attachment" in jsonl.headers["content-disposition"]
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert lines and all("record_hash" in line for line in lines)
    rows = list(csv.reader(io.StringIO(auditor.get("/audit/export?format=csv").text)))
    assert len(rows) > 1
    assert len(services.audit.search(action="audit.export")) == 2


def test_verification_shows_an_intact_chain_and_is_logged(login, services: Services) -> None:
    _one_turn(login)
    auditor, csrf = login("auditor")
    assert "De keten is intact" in auditor.post("/audit/verify", headers={"HX-Request": "true",
                                                                         "X-CSRF-Token": csrf}).text
    assert services.audit.search(action="audit.verify")


def test_verification_is_a_post_with_the_csrf_token_not_a_link(login, services: Services) -> None:
    """A cross-site link or image (a GET) or a forged form (no token) cannot make an auditor's browser verify."""
    auditor, csrf = login("auditor")
    assert auditor.get("/audit/verify", follow_redirects=False).status_code == 405
    assert auditor.post("/audit/verify", data={}, follow_redirects=False).status_code == 403
    assert not services.audit.search(action="audit.verify")
    page = auditor.get("/audit").text
    assert 'method="post" action="/audit/verify" hx-post="/audit/verify"' in page
    assert f'name="csrf_token" value="{csrf}"' in page
    full = auditor.post("/audit/verify", data={"csrf_token": csrf})  # without JavaScript: a page of its own
    assert full.status_code == 200 and "De keten is intact" in full.text and 'href="/audit"' in full.text
    assert len(services.audit.search(action="audit.verify")) == 1


def test_verification_uses_the_configured_witness_and_names_a_missing_one(login, services: Services,
                                                                          tmp_path) -> None:  # type: ignore[no-untyped-def]
    auditor, csrf = login("auditor")
    services.audit.settings = services.audit.settings.model_copy(update={"witness_dir": tmp_path / "weg"})
    text = auditor.post("/audit/verify", headers={"HX-Request": "true", "X-CSRF-Token": csrf}).text
    assert "witness directory" in text and 'role="alert"' in text


def test_the_auditors_own_reading_is_logged(login, services: Services) -> None:
    auditor, _ = login("auditor")
    auditor.get("/audit")
    auditor.get("/audit/records/1")
    actions = {r.action for r in services.audit.search(limit=50)}
    assert {"audit.search", "audit.view", "auth.login"} <= actions


def test_without_an_audit_log_the_page_says_so(login, services: Services) -> None:
    services.audit, saved = None, services.audit
    try:
        auditor, _ = login("auditor")
        assert "niet ingeschakeld" in auditor.get("/audit").text
    finally:
        services.audit = saved
