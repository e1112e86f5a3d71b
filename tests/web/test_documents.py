"""The information manager's documents: streamed upload with a size limit, the plain form upload without
JavaScript, background indexing, safe names, list and search, delete, re-index, and the audit events of each."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from litestar.testing import TestClient

from baken.wiring import Services
from web.documents.indexing import clean_filename


def _upload(client: TestClient, csrf: str, name: str, body: bytes) -> object:
    return client.put("/documents/upload", content=body,
                      headers={"X-CSRF-Token": csrf, "X-File-Name": quote(name),
                               "Content-Type": "application/octet-stream"})


def _wait_for_jobs(client: TestClient, seconds: float = 10) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        html = client.get("/documents/jobs").text
        if "in de wachtrij" not in html and "indexeren" not in html and "bezig" not in html:
            return html
        time.sleep(0.05)
    raise AssertionError("indexing did not finish")


def test_an_upload_is_indexed_in_the_background_and_listed(login, services: Services) -> None:
    client, csrf = login("informatiebeheerder")
    response = _upload(client, csrf, "afval.md", b"# Afvalinzameling\n\nDe groene bak gaat elke week.\n")
    assert response.status_code == 202 and response.json()["name"] == "afval.md"
    assert "klaar: toegevoegd" in _wait_for_jobs(client)
    assert "Afvalinzameling" in client.get("/documents").text
    assert any(d.title == "Afvalinzameling" for d in services.index.documents())
    [event] = services.audit.search(action="document.upload")
    assert event.record_json and '"outcome":"ok"' in event.record_json


def test_two_uploads_at_once_both_index(login, services: Services) -> None:
    import threading

    client, csrf = login("informatiebeheerder")
    bodies = {f"doc{i}.md": f"# Onderwerp {i}\n\nTekst over onderwerp {i}.\n".encode() for i in range(2)}
    threads = [threading.Thread(target=_upload, args=(client, csrf, name, body)) for name, body in bodies.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _wait_for_jobs(client)
    titles = {d.title for d in services.index.documents()}
    assert {"Onderwerp 0", "Onderwerp 1"} <= titles


def test_an_upload_over_the_limit_is_refused_before_it_is_read(login, app) -> None:
    client, csrf = login("informatiebeheerder")
    app.state.baken.max_upload_bytes = 1000
    response = _upload(client, csrf, "groot.md", b"x" * 1001)
    assert response.status_code == 413 and "te groot" in response.json()["message"]
    assert list(app.state.baken.indexer._spool.iterdir()) == []


def test_an_upload_without_a_length_is_cut_off_while_streaming(login, app) -> None:
    client, csrf = login("informatiebeheerder")
    app.state.baken.max_upload_bytes = 1000

    def chunks():
        for _ in range(10):
            yield b"x" * 500

    response = client.put("/documents/upload", content=chunks(), headers={"X-CSRF-Token": csrf, "X-File-Name": "a"})
    assert response.status_code == 413
    assert list(app.state.baken.indexer._spool.iterdir()) == []


@pytest.mark.parametrize(("raw", "safe"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("nota\x00\x1b[31m.md", "nota_31m.md"),
    ("<script>alert(1)</script>.md", "script_.md"),
    ("", "document"),
    ("....", "document"),
])
def test_file_names_are_made_safe(raw: str, safe: str) -> None:
    assert clean_filename(raw) == safe


def test_a_hostile_file_name_is_stored_and_shown_safely(login, services: Services) -> None:
    client, csrf = login("informatiebeheerder")
    response = _upload(client, csrf, "../../etc/passwd", b"# Wachtwoorden\n\n<script>alert(1)</script> geen.\n")
    assert response.status_code == 202 and response.json()["name"] == "passwd"
    _wait_for_jobs(client)
    record = next(d for d in services.index.documents() if d.name == "passwd")
    assert record.source == "upload:passwd" and "/" not in record.stored_path
    assert services.index.original(record.doc_id).resolve().is_relative_to(services.settings.data_dir.resolve())
    page = client.get("/documents").text
    assert "<script>alert(1)" not in page


def test_the_type_is_sniffed_from_content_not_the_name(login, services: Services) -> None:
    client, csrf = login("informatiebeheerder")
    _upload(client, csrf, "rapport.pdf", b"This is plain text pretending to be a PDF.\n")
    _upload(client, csrf, "leeg.md", b"\x00\x01\x02\x03" * 10)
    html = _wait_for_jobs(client)
    assert "mislukt" in html


def test_an_empty_upload_is_refused(login) -> None:
    client, csrf = login("informatiebeheerder")
    assert _upload(client, csrf, "leeg.md", b"").status_code == 400


def test_search_delete_and_reindex(login, services: Services) -> None:
    client, csrf = login("informatiebeheerder")
    _upload(client, csrf, "afval.md", b"# Afvalinzameling\n\nDe groene bak.\n")
    _wait_for_jobs(client)
    listed = client.get("/documents/list?q=afval").text
    assert "Afvalinzameling" in listed and "Parkeren" not in listed
    doc = next(d for d in services.index.documents() if d.title == "Afvalinzameling")
    jobs = client.post(f"/documents/{doc.doc_id}/reindex", data={"csrf_token": csrf},
                       headers={"HX-Request": "true"})
    assert jobs.status_code == 200
    _wait_for_jobs(client)
    assert any(d.doc_id == doc.doc_id for d in services.index.documents())
    after = client.post(f"/documents/{doc.doc_id}/delete", data={"csrf_token": csrf},
                        headers={"HX-Request": "true"})
    assert after.status_code == 200 and "Afvalinzameling" not in after.text and "Parkeren" in after.text
    assert all(d.doc_id != doc.doc_id for d in services.index.documents())
    assert services.audit.search(action="document.delete") and services.audit.search(action="document.reindex")
    assert client.post(f"/documents/{doc.doc_id}/delete", data={"csrf_token": csrf}).status_code == 404


def test_without_javascript_deleting_a_document_asks_for_confirmation_first(login, services) -> None:
    client, csrf = login("informatiebeheerder")
    doc = services.index.documents()[0]
    asked = client.post(f"/documents/{doc.doc_id}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert asked.status_code == 200 and 'name="confirmed" value="yes"' in asked.text
    assert any(d.doc_id == doc.doc_id for d in services.index.documents())  # nothing deleted yet
    done = client.post(f"/documents/{doc.doc_id}/delete", data={"csrf_token": csrf, "confirmed": "yes"},
                       follow_redirects=False)
    assert done.status_code == 303 and all(d.doc_id != doc.doc_id for d in services.index.documents())


BOUNDARY = "----BakenFormBoundary7MA4YWxkTrZu0gW"


def _multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A multipart body as a browser sends it: (field, file name or None for a plain field, content) in order."""
    body = b""
    for field, filename, content in parts:
        disposition = f'form-data; name="{field}"' + ("" if filename is None else f'; filename="{filename}"')
        kind = "" if filename is None else "Content-Type: application/octet-stream\r\n"
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode() + content + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def _post_form(client: TestClient, body: bytes) -> object:
    return client.post("/documents/upload-form", content=body, follow_redirects=False,
                       headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})


def test_the_plain_form_queues_each_file_and_redirects_to_the_documents_page(login, services: Services) -> None:
    client, csrf = login("informatiebeheerder")
    response = _post_form(client, _multipart(("csrf_token", None, csrf.encode()),
                                             ("files", "afval.md", b"# Afvalinzameling\n\nDe groene bak.\n"),
                                             ("files", "../../etc/wegen.md", b"# Wegwerkzaamheden\n\nDe A12.\n")))
    assert response.status_code == 303 and response.headers["location"] == "/documents"
    page = client.get("/documents").text
    assert 'action="/documents/upload-form"' in page and "wegen.md" in page  # the job list shows the jobs
    assert "klaar: toegevoegd" in _wait_for_jobs(client)
    assert {"afval.md", "wegen.md"} <= {d.name for d in services.index.documents()}
    events = services.audit.search(action="document.upload")
    assert len(events) == 2 and all(e.record_json and '"outcome":"ok"' in e.record_json for e in events)


def test_the_plain_form_refuses_an_oversize_file_and_queues_the_rest(login, app, services: Services) -> None:
    client, csrf = login("informatiebeheerder")
    app.state.baken.max_upload_bytes = 1000
    response = _post_form(client, _multipart(("csrf_token", None, csrf.encode()), ("files", "groot.md", b"x" * 1001),
                                             ("files", "klein.md", b"# Klein\n\nPast wel.\n")))
    assert response.status_code == 413
    assert "groot.md" in response.text and "te groot" in response.text
    assert "klein.md" in response.text and "in de wachtrij voor indexeren" in response.text
    _wait_for_jobs(client)
    assert "klein.md" in {d.name for d in services.index.documents()}
    assert "groot.md" not in {d.name for d in services.index.documents()}
    assert list(app.state.baken.indexer._spool.iterdir()) == []


def test_a_plain_form_over_the_total_limit_is_refused_before_it_is_read(login, app) -> None:
    client, csrf = login("informatiebeheerder")
    app.state.baken.max_upload_bytes = 1000
    response = _post_form(client, _multipart(("csrf_token", None, csrf.encode()),
                                             ("files", "alles.md", b"x" * (21 * 1000 + 64 * 1024)),))
    assert response.status_code == 413 and "Samen te groot" in response.text
    assert list(app.state.baken.indexer._spool.iterdir()) == []


@pytest.mark.parametrize(("parts", "message"), [
    ((("files", "", b""),), "Kies eerst een of meer bestanden."),  # a browser's empty file input
    ((), "Kies eerst een of meer bestanden."),
    ((("files", "leeg.md", b""),), "leeg bestand"),
])
def test_the_plain_form_says_when_there_is_nothing_to_upload(login, app, parts, message: str) -> None:
    client, csrf = login("informatiebeheerder")
    response = _post_form(client, _multipart(("csrf_token", None, csrf.encode()), *parts))
    assert response.status_code == 400 and message in response.text
    assert app.state.baken.indexer.jobs() == []


@pytest.mark.parametrize("parts", [
    (("files", "a.md", b"# A\n"),),  # no token
    (("csrf_token", None, b"x" * 43), ("files", "a.md", b"# A\n")),  # a wrong one
    (("files", "a.md", b"# A\n"), ("csrf_token", None, b"{csrf}")),  # the right one, but after the file
])
def test_the_plain_form_needs_the_csrf_token_as_its_first_field(login, app, parts) -> None:
    client, csrf = login("informatiebeheerder")
    body = _multipart(*parts).replace(b"{csrf}", csrf.encode())
    assert _post_form(client, body).status_code == 403
    assert app.state.baken.indexer.jobs() == []


def test_the_form_token_is_read_from_a_body_that_arrives_in_pieces_and_handed_on_unchanged() -> None:
    import asyncio

    from web.auth import _form_field

    body = _multipart(("csrf_token", None, b"geheim"), ("files", "a.md", b"# A\n" * 5000))
    pieces = [body[i:i + 7] for i in range(0, len(body), 7)]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)]

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    async def run() -> tuple[str | None, int, bytes]:
        scope = {"headers": [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())]}
        token, replay = await _form_field(scope, receive, "csrf_token")
        read_by_the_check = len(pieces) - len(messages)
        received, more = b"", True
        while more:
            message = await replay()
            received, more = received + message["body"], message["more_body"]
        return token, read_by_the_check, received

    token, read_by_the_check, received = asyncio.run(run())
    assert token == "geheim" and received == body
    assert read_by_the_check * 7 < 200  # the first part only, not the file behind it
