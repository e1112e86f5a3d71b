"""One user cannot block others: pending questions per user, question length before anything is stored, open
answer streams per session."""

from __future__ import annotations

import asyncio
import threading

import pytest

from assistant.turn import MAX_QUESTION_CHARS
from baken.wiring import Services
from tests.web.test_chat import GatedLLM, _ask
from web.chat.history import History, TooManyPending
from web.chat.routes import StreamLimit
from web.chat.runner import StreamSlots


def _turn_count(services: Services, app) -> int:
    with app.state.baken.history._db.connect() as conn:
        return int(conn.execute("SELECT COUNT(*) AS n FROM turns").fetchone()["n"])


def test_a_fourth_waiting_question_is_refused_with_429_until_one_is_answered(app, login, services: Services) -> None:
    release = threading.Event()
    services.assistant.llm = GatedLLM(gate=release)
    client, csrf = login("medewerker")
    turns = [_ask(client, csrf, "Wat kost een parkeervergunning?")[0] for _ in range(3)]
    refused = client.post("/chat/ask", data={"question": "Nog een vraag?", "csrf_token": csrf},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "U heeft al 3 vragen in behandeling" in refused.text and "<html" not in refused.text
    assert 'id="turn-' not in refused.text and _turn_count(services, app) == 3
    plain = client.post("/chat/ask", data={"question": "Nog een vraag?", "csrf_token": csrf}, follow_redirects=False)
    assert plain.status_code == 429 and "<html" in plain.text and "vragen in behandeling" in plain.text

    other, other_csrf = login("informatiebeheerder")  # another user is not affected
    _ask(other, other_csrf, "Wat kost een parkeervergunning?")
    release.set()
    client.get(f"/chat/turns/{turns[0]}/stream")
    _ask(client, csrf, "En nu wel?")


@pytest.fixture
def shared_settings(dialect_settings):
    """The web database of each dialect (`dialect_settings`)."""
    return dialect_settings


def test_the_pending_limit_holds_across_processes_and_parallel_requests(shared_settings) -> None:
    from web.db import open_web_database

    histories = [History(open_web_database(shared_settings)) for _ in range(4)]
    barrier, outcomes = threading.Barrier(8), []

    def ask(n: int) -> None:
        barrier.wait()
        try:
            histories[n % 4].ask("u1", None, f"vraag {n}", max_pending=3)
            outcomes.append("stored")
        except TooManyPending:
            outcomes.append("refused")

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 5 + ["stored"] * 3


def test_a_pending_turn_left_by_a_stopped_process_does_not_count_for_ever(app, web_settings_) -> None:
    from web.db import open_web_database

    history = History(open_web_database(web_settings_))
    for _ in range(3):
        history.ask("u1", None, "vraag", max_pending=3)
    with pytest.raises(TooManyPending):
        history.ask("u1", None, "vraag", max_pending=3)
    with history._db.connect() as conn:
        conn.execute("UPDATE turns SET created = created - 3600")
    history.ask("u1", None, "vraag", max_pending=3)


def test_a_too_long_question_is_refused_before_anything_is_stored(app, login, services: Services) -> None:
    client, csrf = login("medewerker")
    question = "Wat kost parkeren? " * (MAX_QUESTION_CHARS // 10)
    response = client.post("/chat/ask", data={"question": question, "csrf_token": csrf},
                           headers={"HX-Request": "true"})
    assert response.status_code == 400 and f"hoogstens {MAX_QUESTION_CHARS} tekens" in response.text
    assert _turn_count(services, app) == 0 and app.state.baken.history.conversations(
        app.state.baken.accounts.users()[0].id) == []
    assert services.audit.search(action="conversation.question") == []


def test_stream_slots_are_counted_per_session() -> None:
    slots = StreamSlots()
    assert slots.acquire("a", 2) and slots.acquire("a", 2) and not slots.acquire("a", 2)
    assert slots.acquire("b", 2)
    slots.release("a")
    assert slots.held("a") == 1 and slots.acquire("a", 2)


def test_a_session_holding_its_streams_gets_429_and_its_slot_back_when_a_stream_ends(app, login) -> None:
    client, csrf = login("medewerker")
    turn, _ = _ask(client, csrf, "Wat kost een parkeervergunning?")
    context = app.state.baken
    session = context.accounts.session(client.cookies["baken_session"])
    for _ in range(context.web.max_streams_per_session):
        assert context.streams.acquire(session.csrf, context.web.max_streams_per_session)
    refused = client.get(f"/chat/turns/{turn}/stream")
    assert refused.status_code == 429 and "te veel antwoordvensters" in refused.text.lower()
    context.streams.release(session.csrf)
    assert client.get(f"/chat/turns/{turn}/stream").status_code == 200
    assert context.streams.held(session.csrf) == context.web.max_streams_per_session - 1


def test_the_stream_slot_is_released_when_the_response_fails(app) -> None:
    from types import SimpleNamespace

    context = SimpleNamespace(streams=StreamSlots(), web=SimpleNamespace(max_streams_per_session=1, language="nl"))
    session = SimpleNamespace(csrf="s1")

    async def failing(scope, receive, send):
        raise RuntimeError("client went away")

    scope = {"type": "http", "state": {"session": session}, "app": SimpleNamespace(state=SimpleNamespace(
        baken=context))}
    with pytest.raises(RuntimeError):
        asyncio.run(StreamLimit(failing)(scope, None, None))  # type: ignore[arg-type]
    assert context.streams.held("s1") == 0
