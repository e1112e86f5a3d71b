"""What every request handler needs: the services, the web stores and workers, and page rendering."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template
from markupsafe import Markup, escape  # escape also serves routes that write HTML by hand (the SSE stream)

from assistant.citations import CITATION, cited_numbers
from assistant.services import Services
from core.database import Database
from web.accounts.store import Accounts, Session, User, ordered
from web.auth import LANGUAGE_COOKIE, allowed, current_session
from web.chat.history import History
from web.chat.runner import ChatRunner, StreamSlots
from web.documents.indexing import Indexer
from web.documents.sync import SyncScheduler
from web.i18n import pick_language, translator
from web.settings import WebSettings

if TYPE_CHECKING:
    from assistant.audit import AuditLog
    from web.accounts.oidc import OidcClient
    from web.accounts.sso import PendingLogins

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]  # a posted HTML form
TEMPLATES = Path(__file__).parent / "templates"
SNIPPET_CHARS = 140


@dataclass
class WebContext:
    """The web front end's state, built once in create_app and kept in app.state."""

    services: Services
    web: WebSettings
    accounts: Accounts
    history: History
    chat: ChatRunner
    indexer: Indexer
    max_upload_bytes: int
    database: Database | None = None  # the shared-state database, for readiness
    streams: StreamSlots = field(default_factory=StreamSlots)  # open answer streams per session
    sso: OidcClient | None = None  # login with the organisation's OpenID provider, when web.sso is on
    pending: PendingLogins | None = None  # SSO logins gone to the provider and not yet back
    sync: SyncScheduler | None = None  # the scheduled folder sync (BAKEN_INGESTION__SYNC_DIR)

    @property
    def audit(self) -> AuditLog | None:
        """The audit log, when one is wired in."""
        return self.services.audit

    def readable(self, user: User) -> frozenset[str]:
        """The collections ``user`` may read: `algemeen`, and those granted to one of the user's groups."""
        return self.services.index.collections.readable(user.groups)

    def documents_seen(self, user: User) -> tuple[set[str], set[str]]:
        """Ids of the ready documents, and of those ``user`` may read (one read of the registry)."""
        readable, documents = self.readable(user), self.services.index.documents()
        return {d.doc_id for d in documents}, {d.doc_id for d in documents if d.collection in readable}


def ctx(request: Request[Any, Any, Any]) -> WebContext:
    """The WebContext of the app serving ``request``."""
    return request.app.state.baken


def session_of(request: Request[Any, Any, Any]) -> Session:
    """The session of a request that passed a guard (so there is one)."""
    session = current_session(request)
    assert session is not None
    return session


def language(request: Request[Any, Any, Any]) -> str:
    """The interface language of this request."""
    return pick_language(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"),
                         ctx(request).web.language)


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    """True for a request htmx made (it wants a partial, not a page)."""
    return request.headers.get("hx-request") == "true"


def cite(answer: str, turn_id: str, sources: list[dict[str, Any]]) -> Markup:
    """The answer as escaped text in which each cited number that names a source ([n], [1, 2]) links to it."""
    known = {int(s["n"]) for s in sources}

    def link(n: int) -> str:
        return f'<a class="citation" href="/chat/turns/{turn_id}/sources/{n}" ' \
               f'hx-get="/chat/turns/{turn_id}/sources/{n}" hx-target="#source-panel">{n}</a>'

    def bracket(match: re.Match[str]) -> str:
        numbers = cited_numbers(match.group(0), max(known, default=0))
        if not numbers or any(n not in known for n in numbers):
            return match.group(0)
        return "[" + ", ".join(link(n) for n in numbers) + "]"

    return Markup(CITATION.sub(bracket, str(escape(answer))))


def by_document(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sources grouped per document, cited documents (and within one, cited chunks) first: what a person
    needs to tell the sources apart (one entry per document, with the headings and pages used)."""
    groups: dict[str, dict[str, Any]] = {}
    for s in sources:
        key = s.get("doc_id") or s.get("document") or str(s["n"])
        group = groups.setdefault(key, {"title": s.get("title") or document_name(s.get("document", "")),
                                        "sources": [], "cited": False})
        group["sources"].append(s)
        group["cited"] = group["cited"] or bool(s.get("cited"))
    ordered = sorted(groups.values(), key=lambda g: not g["cited"])
    for group in ordered:
        group["sources"].sort(key=lambda s: (not s.get("cited"), int(s["n"])))
        group["first"] = group["sources"][0]
    return ordered


def snippet(text: str) -> str:
    """One line of a chunk: its first SNIPPET_CHARS characters, cut at a word."""
    line = " ".join(text.split())
    if len(line) <= SNIPPET_CHARS:
        return line
    return line[:line.rfind(" ", 0, SNIPPET_CHARS)].rstrip(",;:") + "…"


def highlighted(text: str, evidence: list[dict[str, Any]], n: int) -> Markup:
    """A chunk's text, escaped, with the evidence chosen from it (source ``n``) in <mark>."""
    spans = sorted((int(e["start"]), int(e["end"])) for e in evidence
                   if int(e.get("n", 0)) == n and 0 <= int(e.get("start", -1)) < int(e.get("end", -1)) <= len(text))
    parts, position = [], 0
    for start, end in spans:
        if start < position:
            continue
        parts += [str(escape(text[position:start])), f"<mark>{escape(text[start:end])}</mark>"]
        position = end
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))


def document_name(source: str) -> str:
    """What users see of a document's source key: its file name, never a server path."""
    return re.split(r"[\\/]", source.removeprefix("upload:"))[-1]


def build_environment() -> Environment:
    """The Jinja environment: autoescaping on for every template, the `cite` filter."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["cite"] = cite
    env.filters["by_document"] = by_document
    env.filters["snippet"] = snippet
    env.filters["document_name"] = document_name
    return env


def render(request: Request[Any, Any, Any], template: str, status_code: int = 200, **values: Any) -> Template:
    """A page or partial with the common context: language, `t`, user, CSRF token, permissions."""
    lang = language(request)
    session = current_session(request)
    user, t = (session.user if session else None), translator(lang)
    context = {
        "lang": lang, "other_lang": "en" if lang == "nl" else "nl", "t": t,
        "roles_of": lambda someone: ", ".join(t(f"role.{r}") for r in ordered(someone.roles)),
        "user": session.user if session else None, "csrf": session.csrf if session else "",
        "can": lambda permission: allowed(user, permission), "path": request.url.path,
    }
    context.update(values)
    return Template(template_name=template, context=context, status_code=status_code)
