"""The overview pages: who may open which, the whole page or the htmx partial, the period, figures that
match the log and the viewer's collections, and the auditor's opening logged."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from litestar.testing import TestClient

from assistant.audit.records import prepare_record
from tests.web.conftest import BASE_URL, PASSWORD, ROLES, log_in

PAGES = {"/overview": {"informatiebeheerder"}, "/audit/overview": {"auditor"}}


def put_turn(app: Any, outcome: str, sources: list[dict[str, Any]], question: str = "Hoe zit het?",
             redactions: tuple[str, ...] = ()) -> int:
    """A turn record of today in the app's audit log."""
    log = app.state.baken.services.audit
    return log.store.append(lambda seq, head: prepare_record(
        seq, head, time=log.now(), action="conversation.turn", actor="p-user", role="medewerker",
        attributes={"baken.sources": sources, "baken.withheld": False,
                    "baken.redactions": [{"type": t} for t in redactions]},
        content={"question": question}, conversation_id="c", outcome=outcome)).seq


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", sorted(PAGES))
def test_each_overview_opens_only_for_its_role(login, path: str, role: str) -> None:
    client, _ = login(role)
    response = client.get(path)
    assert response.status_code == (200 if role in PAGES[path] else 403)


@pytest.mark.parametrize("path", sorted(PAGES))
def test_an_anonymous_visitor_is_sent_to_the_login(anonymous, path: str) -> None:
    response = anonymous.get(path, follow_redirects=False)
    assert response.status_code in (302, 303) and "/login" in response.headers["location"]


def test_the_page_is_whole_and_the_period_links_fetch_a_partial(login) -> None:
    client, _ = login("informatiebeheerder")
    page = client.get("/overview")
    assert "<html" in page.text and "<h1>Overzicht</h1>" in page.text
    assert 'href="/overview"' in page.text  # in the menu
    assert re.search(r'<a id="period-30"[^>]*aria-current="true"', page.text)
    partial = client.get("/overview?days=7", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "<h1>" not in partial.text
    assert re.search(r'<a id="period-7"[^>]*aria-current="true"', partial.text)
    assert 'hx-get="/overview?days=90"' in partial.text and "Getoond: de laatste 7 dagen" in partial.text


@pytest.mark.parametrize(("days", "shown"), [("7", 7), ("90", 90), ("365", 30), ("0", 30)])
def test_a_period_other_than_seven_thirty_or_ninety_days_shows_thirty(login, days: str, shown: int) -> None:
    client, _ = login("informatiebeheerder")
    assert f"Getoond: de laatste {shown} dagen" in client.get(f"/overview?days={days}").text


def test_a_period_that_is_no_number_is_a_bad_request_in_dutch(login) -> None:
    client, _ = login("informatiebeheerder")
    response = client.get("/overview?days=veel")
    assert response.status_code == 400 and "Ongeldig verzoek" in response.text


def test_the_figures_are_the_logs_and_only_for_readable_collections(app, login) -> None:
    doc = app.state.baken.services.index.documents()[0]
    put_turn(app, "answered", [{"doc_id": doc.doc_id, "collection": "algemeen", "cited": True}])
    put_turn(app, "answered", [{"doc_id": "hr-1", "collection": "hr", "cited": True}], question="HR-vraag")
    put_turn(app, "no_source", [], question="Wanneer is <PERSON_1> jarig?", redactions=("PERSON",))
    client, _ = login("informatiebeheerder")
    page = client.get("/overview?days=7").text
    assert "In de laatste 7 dagen 2 in totaal (beantwoord 1, geen bron gevonden 1)" in page  # not the hr turn
    assert "Wanneer is &lt;PERSON_1&gt; jarig?" in page  # the redacted question, escaped
    assert "hr-1" not in page and "Collectie hr" not in page
    assert doc.title in page  # cited most in algemeen
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == page.count('class="chart-table"') - 1  # + gaps


def test_the_auditors_overview_shows_chain_witness_and_readers_and_is_logged(app, login) -> None:
    put_turn(app, "answered", [], redactions=("BSN", "BSN", "IBAN"))
    client, _ = login("auditor")
    page = client.get("/audit/overview").text
    assert "Geen getuige ingesteld" in page and "De keten is nog niet gecontroleerd." in page
    assert "Keten nu controleren" in page
    log = app.state.baken.services.audit
    auditor = next(u for u in app.state.baken.accounts.users() if u.name == "auditor")
    opened = log.search(action="audit.overview")
    assert len(opened) == 1 and opened[0].actor == log.pseudonym(auditor.id)  # logged, pseudonymised
    assert opened[0].actor[:16] in page  # and counted among the readers
    assert "BSN 2" in page and "IBAN 1" in page  # the kinds of redacted data, counted
    client.get("/audit/overview?days=7", headers={"HX-Request": "true"})
    assert len(log.search(action="audit.overview")) == 2  # every opening, the partial's too


def test_the_information_managers_opening_is_logged_as_an_overview_view(app, login) -> None:
    client, _ = login("informatiebeheerder")
    client.get("/overview")
    [opened] = app.state.baken.services.audit.search(action="overview.view")
    assert '"overview":"manager"' in (opened.record_json or "").replace(" ", "")


def test_a_member_of_a_group_granted_a_collection_sees_its_figures(app, anonymous) -> None:
    collections = app.state.baken.services.index.collections
    collections.add("hr")
    collections.grant("hr", "personeelszaken")
    app.state.baken.accounts.add_user("ib-hr", "informatiebeheerder", PASSWORD, groups="personeelszaken")
    put_turn(app, "answered", [{"doc_id": "hr-1", "collection": "hr", "cited": True}])
    log_in(anonymous, "ib-hr")
    page = anonymous.get("/overview?days=7").text
    assert "In de laatste 7 dagen 1 in totaal (beantwoord 1)" in page and "Collectie hr" in page


def test_the_figures_are_brought_up_to_date_in_the_background_when_the_app_starts(app) -> None:
    seq = put_turn(app, "answered", [])
    store = app.state.baken.services.audit.store
    with TestClient(app, base_url=BASE_URL):  # runs the start-up hooks
        deadline = time.monotonic() + 10
        while not store._read("SELECT 1 FROM figure_records WHERE seq = ?", (seq,)):
            assert time.monotonic() < deadline, "the figures were not updated at start"
            time.sleep(0.05)
