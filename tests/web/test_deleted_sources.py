"""After a document is deleted, its text no longer shows in the history that once cited it: not in the
conversation page, the finished turn, the source panel or page; the sources stay listed as deleted."""

from __future__ import annotations

from baken.wiring import Services
from tests.web.test_chat import _ask, _events
from web.chat.history import StoredTurn, without_deleted

CHUNK_TEXT = "veertig euro"


def test_a_deleted_documents_text_leaves_every_history_view(login, services: Services) -> None:
    client, csrf = login("medewerker")
    turn, conversation = _ask(client, csrf, "Wat kost een parkeervergunning?")
    _events(client, turn)
    before = client.get(f"/chat/{conversation}").text
    assert CHUNK_TEXT in before and "Uit de documenten" in before
    assert CHUNK_TEXT in client.get(f"/chat/turns/{turn}/sources/1").text

    for document in services.index.documents():
        services.index.delete(document.doc_id)

    page = client.get(f"/chat/{conversation}").text
    assert CHUNK_TEXT not in page and "Wat kost een parkeervergunning?" in page  # the question is the user's own
    assert "Een bron van dit antwoord is inmiddels verwijderd" in page and "(verwijderd)" in page
    for headers in ({}, {"HX-Request": "true"}):
        source = client.get(f"/chat/turns/{turn}/sources/1", headers=headers)
        assert source.status_code == 200 and CHUNK_TEXT not in source.text
        assert "Dit document is verwijderd" in source.text and "/original" not in source.text
    done = [data for event, data in _events(client, turn) if event == "done"]
    assert done and CHUNK_TEXT not in done[0]


def _turn(**values: object) -> StoredTurn:
    sources = [{"n": 1, "doc_id": "weg", "text": "Geheime tekst."}, {"n": 2, "doc_id": "blijft", "text": "Open."}]
    base = {"id": "t", "conversation_id": "c", "user_id": "u", "question": "Vraag?",
            "answer": "“Geheime tekst.” [1]", "sources": sources, "outcome": "answered", "event_id": None,
            "feedback": None, "evidence": [{"n": 1, "text": "Geheime tekst."}, {"n": 2, "text": "Open."}],
            "sentences": [{"text": "Geheim.", "source": 1}, {"text": "Open.", "source": 2}]}
    return StoredTurn(**(base | values))  # type: ignore[arg-type]


def test_only_the_deleted_documents_quotes_and_the_sentences_it_supported_are_taken_out() -> None:
    kept = without_deleted(_turn(), {"blijft"})
    assert kept.removed and kept.answer == ""
    assert [s["text"] for s in kept.sources] == ["", "Open."] and kept.sources[0]["deleted"]
    assert kept.evidence == [{"n": 2, "text": "Open."}] and kept.sentences == [{"text": "Open.", "source": 2}]
    whole = _turn()
    assert without_deleted(whole, {"weg", "blijft"}) is whole  # nothing deleted: unchanged


def test_a_withheld_answer_keeps_its_fixed_note() -> None:
    kept = without_deleted(_turn(withheld=True, answer="Het antwoord is achtergehouden."), {"blijft"})
    assert kept.answer == "Het antwoord is achtergehouden."


def test_a_source_moved_out_of_reach_is_withheld_with_its_title() -> None:
    turn = _turn()
    turn.sources[0].update(title="Integriteitsonderzoek", heading="Melding", document="upload:melding.pdf")
    kept = without_deleted(turn, {"weg", "blijft"}, readable={"blijft"})
    hidden = kept.sources[0]
    assert hidden["withheld"] and not hidden.get("deleted")
    assert (hidden["text"], hidden["title"], hidden["heading"], hidden["document"]) == ("", "", "", "")
    assert [e["n"] for e in kept.evidence] == [2] and [s["source"] for s in kept.sentences] == [2]
    assert kept.removed and "Geheim" not in str(kept)
