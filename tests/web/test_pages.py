"""Every page: translations complete in Dutch and English, strict CSP and security headers, no inline script
or style, escaping, vendored assets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from web.accounts.store import ROLES
from web.i18n import MESSAGES, translator

WEB = Path(__file__).resolve().parents[2] / "web"
PAGES = {"medewerker": ["/chat"], "informatiebeheerder": ["/documents", "/chat"], "auditor": ["/audit"],
         "beheerder": ["/admin/users"]}


def test_every_key_the_templates_use_is_translated() -> None:
    used = set()
    for template in (WEB / "templates").rglob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_]+)["']""", template.read_text(encoding="utf-8")))
    for module in WEB.rglob("*.py"):
        used |= {k for k in re.findall(r"""["']([a-z]+\.[a-z_]+)["']""", module.read_text(encoding="utf-8"))
                 if k.split(".")[0] in {"login", "error", "chat", "docs", "job", "users", "feedback"}}
    used |= {f"job.done_{result}" for result in ("new", "replaced", "unchanged", "None")}
    used |= {f"role.{role}" for role in ROLES} | {f"outcome.{o}" for o in ("error", "refused", "pending")}
    not_keys = {"job.done_", "audit.field_", "feedback.given", "chat.completion"}  # the last: OpenAI's object name
    assert used - not_keys - set(MESSAGES) == set()
    assert all(nl and en for nl, en in MESSAGES.values())


def test_the_translator_fills_placeholders_in_both_languages() -> None:
    assert translator("nl")("chat.queue", n=2) == "Het taalmodel is bezig. U bent nummer 2 in de rij."
    assert translator("en")("chat.queue", n=2) == "The language model is busy. You are number 2 in the queue."


def test_dutch_is_the_default_and_english_is_one_click_away(login) -> None:
    client, _ = login("medewerker")
    assert '<html lang="nl">' in client.get("/chat").text
    client.get("/language/en?next=/chat")
    page = client.get("/chat").text
    assert '<html lang="en">' in page and "Ask a question" in page and "Stel een vraag" not in page


@pytest.mark.parametrize("role", list(PAGES))
def test_pages_carry_a_strict_csp_and_security_headers(login, role: str) -> None:
    client, _ = login(role)
    for path in PAGES[role]:
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"


def test_errors_and_static_files_carry_the_headers_too(anonymous) -> None:
    for path in ("/nowhere", "/static/baken.css", "/healthz"):
        headers = anonymous.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path


def test_templates_have_no_inline_script_style_or_event_handler() -> None:
    for template in (WEB / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert "<style" not in text and " style=" not in text, template
        assert not re.search(r"\son[a-z]+=", text), template
        assert "hx-on" not in text and "js:" not in text, template


def test_vendored_htmx_and_its_sse_extension_are_served_with_their_licences(anonymous) -> None:
    for name in ("htmx-2.0.11.min.js", "htmx-ext-sse-2.2.4.min.js"):
        response = anonymous.get(f"/static/vendor/{name}")
        assert response.status_code == 200 and len(response.content) > 1000
    assert (WEB / "static/vendor/htmx.LICENSE").exists() and (WEB / "static/vendor/htmx-ext-sse.LICENSE").exists()


def test_healthz_answers_without_a_login(anonymous) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}


def test_a_document_title_with_html_is_shown_as_text(login, services) -> None:
    client, _csrf = login("informatiebeheerder")
    services.index.ingest_bytes(b"<img src=x onerror=alert(1)> Titel\n\nTekst.\n", "x.txt", "upload:x.txt")
    page = client.get("/documents").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt; Titel" in page


def test_readyz_names_the_backend_that_does_not_answer(anonymous, services) -> None:
    assert anonymous.get("/readyz").json() == {"status": "ready", "checks": {"llm": "ok", "index": "ok",
                                                                             "audit": "ok", "database": "ok"}}

    def down() -> None:
        from core.errors import BackendUnavailable

        raise BackendUnavailable("http://user:secret@gpu-1:8080 refused")

    services.assistant.llm.check = down
    response = anonymous.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["llm"] == "BackendUnavailable"
    assert "secret" not in response.text


def test_readyz_fails_when_the_shared_database_does_not_answer(app, anonymous) -> None:
    app.state.baken.database.path = app.state.baken.database.path.parent / "gone" / "web.sqlite3"
    response = anonymous.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["database"] == "BackendUnavailable"


def test_head_is_answered_like_get_without_a_body(anonymous) -> None:
    for path in ("/healthz", "/login", "/static/baken.css"):
        got, head = anonymous.get(path), anonymous.head(path)
        assert head.status_code == got.status_code == 200 and head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"]
    assert anonymous.head("/chat", follow_redirects=False).status_code in (302, 303)  # guarded like GET


def test_metrics_count_requests_by_route_template_and_ingestion(tmp_path) -> None:
    from litestar.testing import TestClient

    from assistant.metrics import Metrics
    from baken.settings import Settings
    from tests.web.conftest import BASE_URL, fake_services
    from web.app import create_app

    services = fake_services(tmp_path)
    services.metrics = Metrics()
    client = TestClient(create_app(Settings(data_dir=tmp_path), services), base_url=BASE_URL)
    client.get("/chat/turns/abc/stream")
    text = client.get("/metrics").text
    assert 'route="/chat/turns/{turn_id}/stream",status="303"' in text and "/abc/" not in text
    assert "baken_ingestion_jobs" in text


def test_the_shared_database_down_gives_a_clear_503_not_a_crash(app, login) -> None:
    from core.errors import BackendUnavailable

    client, _csrf = login("medewerker")

    def down(token: str | None) -> None:
        raise BackendUnavailable("postgresql://baken:geheim@db/baken is unreachable")

    app.state.baken.accounts.session = down  # every request looks its session up first
    response = client.get("/chat", follow_redirects=False)
    assert response.status_code == 503 and "geheim" not in response.text
    assert client.get("/healthz").status_code == 200  # the process itself still answers
