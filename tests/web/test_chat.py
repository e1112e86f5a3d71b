"""The employee's chat: streamed answers, linked citations, escaping, history per user, feedback, queue."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from litestar.testing import TestClient

from assistant.llm import FakeLLM
from assistant.turn import Actor
from baken.wiring import Services
from web.chat.history import History
from web.chat.runner import ChatRunner
from web.db import open_web_database


@dataclass
class GatedLLM(FakeLLM):
    """A FakeLLM that says it has started (``entered``), yields ``first``, then waits for ``gate`` (at most
    5 s) before the rest of its answer."""

    gate: threading.Event = field(default_factory=threading.Event)
    first: str = ""
    entered: threading.Semaphore | None = None

    def stream(self, messages, params):
        if self.entered is not None:
            self.entered.release()
        if self.first:
            yield self.first
        self.gate.wait(5)
        yield from super().stream(messages, params)


def _history(tmp_path: Path, services: Services) -> History:
    """A history in a web database of its own, as another process would open the shared one."""
    return History(open_web_database(services.settings.model_copy(update={"data_dir": tmp_path})))


def _ask(client: TestClient, csrf: str, question: str, conversation_id: str = "") -> tuple[str, str]:
    response = client.post("/chat/ask", data={"question": question, "conversation_id": conversation_id,
                                              "csrf_token": csrf}, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text
    turn = re.search(r'id="turn-([0-9a-f-]+)"', response.text).group(1)
    conversation = re.search(r'name="conversation_id" value="([0-9a-f-]+)" hx-swap-oob', response.text).group(1)
    return turn, conversation


def _events(client: TestClient, turn: str) -> list[tuple[str, str]]:
    text = client.get(f"/chat/turns/{turn}/stream").text
    events = []
    for block in text.strip().split("\r\n\r\n" if "\r\n" in text else "\n\n"):
        lines = block.splitlines()
        event = next((line[7:] for line in lines if line.startswith("event: ")), "message")
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        events.append((event, data))
    return events


def test_the_evidence_streams_first_then_the_checked_answer_and_it_ends_with_linked_citations(login) -> None:
    client, csrf = login("medewerker")
    turn, _ = _ask(client, csrf, "Wat kost een parkeervergunning?")
    events = _events(client, turn)
    kinds = [event for event, _ in events]
    assert kinds.index("evidence") < kinds.index("token")
    evidence = next(data for event, data in events if event == "evidence")
    assert "Uit de documenten" in evidence and "veertig euro per jaar" in evidence
    assert f'href="/chat/turns/{turn}/sources/1"' in evidence
    tokens = [data for event, data in events if event == "token"]
    assert "".join(re.sub("</?span>", "", t) for t in tokens).startswith("Een parkeervergunning")
    kind, done = events[-1]
    assert kind == "done"
    assert f'href="/chat/turns/{turn}/sources/1"' in done and "(geciteerd)" in done and "Parkeren" in done
    assert 'name="rating"' in done


def test_a_citation_opens_the_chunk_title_and_a_download_of_the_original(login) -> None:
    client, csrf = login("medewerker")
    turn, _ = _ask(client, csrf, "Wat kost een parkeervergunning?")
    _events(client, turn)
    page = client.get(f"/chat/turns/{turn}/sources/1")
    assert "Parkeren" in page.text and "veertig euro per jaar" in page.text
    assert "parkeren.md" in page.text and "/parkeren.md" not in page.text  # never a server path
    link = re.search(r'href="(/documents/[0-9a-f]{64}/original)"', page.text).group(1)
    download = client.get(link)
    assert download.status_code == 200 and b"veertig euro per jaar" in download.content
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment")


def test_html_from_the_model_is_shown_as_text(login, services: Services) -> None:
    services.assistant.llm = FakeLLM('<script>alert(1)</script> <img src=x onerror="x()"> [1]')
    answer = services.assistant._settings.answer.model_copy(update={"mode": "generative"})  # shown, marked
    services.assistant._settings = services.assistant._settings.model_copy(update={"answer": answer})
    client, csrf = login("medewerker")
    turn, _ = _ask(client, csrf, "Wat kost een parkeervergunning?")
    stream = client.get(f"/chat/turns/{turn}/stream").text
    assert "<script>" not in stream and "<img" not in stream
    assert "&lt;script&gt;" in stream
    page = client.get(client.get("/chat").text and f"/chat/{re.search(r'/chat/([0-9a-f-]{36})', client.get('/chat').text).group(1)}")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)" in page.text


def test_history_is_per_user(login) -> None:
    client, csrf = login("medewerker")
    turn, conversation = _ask(client, csrf, "Wat kost een parkeervergunning?")
    _events(client, turn)
    second, same_conversation = _ask(client, csrf, "En per maand?", conversation)
    _events(client, second)
    assert same_conversation == conversation
    page = client.get(f"/chat/{conversation}").text
    assert "Wat kost een parkeervergunning?" in page and "En per maand?" in page
    assert f'href="/chat/{conversation}"' in client.get("/chat").text
    other, _ = login("informatiebeheerder")
    assert other.get(f"/chat/{conversation}").status_code == 404
    assert other.get(f"/chat/turns/{turn}/sources/1").status_code == 404
    assert conversation not in other.get("/chat").text


def test_feedback_goes_into_the_audit_log_with_the_turn_it_rates(login, services: Services) -> None:
    client, csrf = login("medewerker")
    turn, conversation = _ask(client, csrf, "Wat kost een parkeervergunning?")
    _events(client, turn)
    response = client.post(f"/chat/turns/{turn}/feedback", headers={"HX-Request": "true"},
                           data={"csrf_token": csrf, "rating": "not_useful", "comment": "te kort"})
    assert response.status_code == 200 and "Bedankt" in response.text
    [record] = services.audit.search(action="feedback.given")
    turn_record = services.audit.search(action="conversation.turn")[0]
    meta = json.loads(record.record_json)
    assert meta["baken.feedback.rating"] == "not_useful" and meta["baken.feedback.turn_seq"] == turn_record.seq
    assert meta["conversation_id"] == conversation
    assert json.loads(services.audit.get(record.seq).content_json)["comment"] == "te kort"
    assert "Bedankt" in client.get(f"/chat/{conversation}").text


def test_a_bad_rating_is_refused(login) -> None:
    client, csrf = login("medewerker")
    turn, _ = _ask(client, csrf, "Wat kost een parkeervergunning?")
    _events(client, turn)
    assert client.post(f"/chat/turns/{turn}/feedback", data={"csrf_token": csrf, "rating": "geweldig"},
                       headers={"HX-Request": "true"}).status_code == 400


def test_an_empty_question_is_refused(login) -> None:
    client, csrf = login("medewerker")
    assert client.post("/chat/ask", data={"question": "   ", "csrf_token": csrf}).status_code == 400


def test_a_waiting_question_knows_its_place_in_the_queue(tmp_path, services: Services) -> None:
    release = threading.Event()

    services.assistant.llm = GatedLLM(gate=release)
    history = _history(tmp_path, services)
    runner = ChatRunner(services.assistant, history)
    conversation = history.start("u", "q")
    turns = [history.add_turn("u", conversation, "Wat kost een parkeervergunning?") for _ in range(3)]
    streams = [runner.submit(t.id, t.question, conversation, Actor("u")) for t in turns]
    while not streams[0].started:
        pass
    assert [runner.position(t.id) for t in turns] == [0, 1, 2]
    release.set()
    while streams[-1].finished is None:
        pass
    assert [runner.position(t.id) for t in turns] == [0, 0, 0]
    assert [e for e, _ in streams[2].events][-1] == "done"
    runner.close()


def test_the_stream_shows_the_queue_place_while_waiting(login, services: Services) -> None:
    release = threading.Event()

    services.assistant.llm = GatedLLM(gate=release)
    client, csrf = login("medewerker")
    _first, _ = _ask(client, csrf, "Wat kost een parkeervergunning?")
    second, _ = _ask(client, csrf, "Wat kost een parkeervergunning?")
    threading.Timer(0.5, release.set).start()
    events = _events(client, second)
    statuses = [data for event, data in events if event == "status"]
    assert any("nummer 1 in de rij" in s for s in statuses), statuses
    assert events[-1][0] == "done"


def test_a_feedback_comment_is_redacted_before_it_reaches_the_audit_log(login, services: Services) -> None:
    class Masking:
        def redact(self, text, vault, kind="typed"):
            from assistant.turn import NoRedaction

            return NoRedaction().redact(text.replace("Jan Jansen", "<PERSOON_1>"), vault)

        def restore_stream(self, tokens, vault):
            return iter(tokens)

    services.assistant._redactor = Masking()
    client, csrf = login("medewerker")
    turn, _ = _ask(client, csrf, "Wat kost een parkeervergunning?")
    _events(client, turn)
    client.post(f"/chat/turns/{turn}/feedback", headers={"HX-Request": "true"},
                data={"csrf_token": csrf, "rating": "useful", "comment": "Jan Jansen vond het goed"})
    [record] = services.audit.search(action="feedback.given")
    assert json.loads(services.audit.get(record.seq).content_json)["comment"] == "<PERSOON_1> vond het goed"


def test_reopening_a_conversation_while_its_answer_is_written_resumes_the_stream(login, services: Services) -> None:
    release = threading.Event()

    services.assistant.llm = GatedLLM(gate=release)
    client, csrf = login("medewerker")
    turn, conversation = _ask(client, csrf, "Wat kost een parkeervergunning?")
    page = client.get(f"/chat/{conversation}").text
    assert f'sse-connect="/chat/turns/{turn}/stream"' in page and page.count('id="conversation-id"') == 1
    release.set()
    assert _events(client, turn)[-1][0] == "done"
    assert "sse-connect" not in client.get(f"/chat/{conversation}").text


def test_the_model_remembers_a_conversation_whichever_process_answered_before(tmp_path, services: Services) -> None:
    """Two runners (two processes) share one history: each one's prompt holds every earlier exchange."""
    history = _history(tmp_path, services)
    llms = [FakeLLM("Een parkeervergunning kost veertig euro per jaar (A) [1]."),
            FakeLLM("Een parkeervergunning kost veertig euro per jaar (B) [1].")]
    runners = []
    for llm in llms:
        services.assistant.llm = llm
        assistant = type(services.assistant)(services.index, llm, services.assistant.redactor,
                                             services.assistant._journal, services.settings)
        runners.append(ChatRunner(assistant, history))
    conversation = history.start("u", "parkeren")

    def ask(runner: ChatRunner, question: str) -> None:
        turn = history.add_turn("u", conversation, question)
        stream = runner.submit(turn.id, question, conversation, Actor("u"))
        while stream.finished is None:
            threading.Event().wait(0.01)

    ask(runners[0], "Wat kost een parkeervergunning?")
    ask(runners[1], "En voor een tweede auto?")  # follow-ups: the model sees the exchange they refer to
    ask(runners[0], "En per jaar?")
    seen_by_b = " ".join(m["content"] for m in llms[1].prompts[-1])
    assert "Wat kost een parkeervergunning?" in seen_by_b and "(A)" in seen_by_b
    assert [t.outcome for t in history.turns("u", conversation)] == ["answered"] * 3
    seen_by_a = " ".join(m["content"] for m in llms[0].prompts[-1])
    assert "En voor een tweede auto?" in seen_by_a and "(B)" in seen_by_a  # rebuilt, not stale
    for runner in runners:
        runner.close()


def test_a_stream_request_on_another_process_follows_the_answer_to_its_end(app, login,
                                                                            services: Services) -> None:
    """Without sticky sessions the stream may reach a process that is not answering: it follows the answer
    through the shared history (here: a second app over the same data directory)."""
    from web.app import create_app

    release = threading.Event()

    services.assistant.llm = GatedLLM(gate=release, first="Een parkeervergunning")
    other = create_app(services.settings, services)
    client, csrf = login("medewerker")
    turn, conversation = _ask(client, csrf, "Wat kost een parkeervergunning?")
    elsewhere = TestClient(other, base_url=str(client.base_url))
    elsewhere.cookies = client.cookies
    page = elsewhere.get(f"/chat/{conversation}").text
    assert f'sse-connect="/chat/turns/{turn}/stream"' in page  # still being written, on the first process
    threading.Timer(1.5, release.set).start()
    events = _events(elsewhere, turn)
    assert events[-1][0] == "done" and "veertig euro per jaar" in events[-1][1], events
    kinds = [event for event, _ in events]
    assert "evidence" in kinds[:-1]  # the evidence, stored by the answering process, before the end
    other.state.baken.chat.close()
    other.state.baken.indexer.close()


def test_with_two_workers_two_questions_are_answered_at_once(tmp_path, services: Services) -> None:
    """With a model server that has parallel slots, a process answers as many questions at once as workers."""
    inside, both = threading.Semaphore(0), threading.Event()  # both: set only once two answers run at once
    services.assistant.llm = GatedLLM(gate=both, entered=inside)
    history = _history(tmp_path, services)
    runner = ChatRunner(services.assistant, history, workers=2)
    conversation = history.start("u", "q")
    turns = [history.add_turn("u", conversation, "Wat kost een parkeervergunning?") for _ in range(3)]
    streams = [runner.submit(t.id, t.question, conversation, Actor("u")) for t in turns]
    assert inside.acquire(timeout=5) and inside.acquire(timeout=5)  # two generating together
    assert runner.position(turns[2].id) == 1  # next in line
    both.set()
    while any(s.finished is None for s in streams):  # with two workers the last may finish first
        threading.Event().wait(0.01)
    assert all([e for e, _ in s.events][-1] == "done" and ("error", "error.turn_failed") not in s.events
               for s in streams)
    runner.close()


def test_the_server_purges_conversations_older_than_history_days(app) -> None:
    import time

    history = app.state.baken.history
    old = history.start("u", "oud gesprek")
    with history._db.connect() as conn:
        conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time() - 91 * 86400, old))
    with TestClient(app):  # startup runs the purge
        deadline = time.monotonic() + 5
        while history.owns("u", old) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not history.owns("u", old)


def test_a_user_deletes_their_own_conversation_after_confirming(login) -> None:
    client, csrf = login("medewerker")
    _, conversation = _ask(client, csrf, "Wat kost een parkeervergunning?")
    page = client.get(f"/chat/{conversation}").text
    assert f'action="/chat/{conversation}/delete"' in page and "<details" in page  # confirmed without JavaScript
    other, other_csrf = login("informatiebeheerder")
    assert other.post(f"/chat/{conversation}/delete", data={"csrf_token": other_csrf},
                      follow_redirects=False).status_code == 404
    deleted = client.post(f"/chat/{conversation}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert deleted.status_code == 303 and deleted.headers["location"] == "/chat"
    assert client.get(f"/chat/{conversation}", follow_redirects=False).status_code == 404
