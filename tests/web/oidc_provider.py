"""A real OpenID provider on loopback for the SSO tests: `oidc-provider-mock` (MIT; Authlib's server side,
RS256-signed ID tokens, discovery, JWKS, end-session) in a thread, behind a thin WSGI layer that

- enforces PKCE S256 as the NL GOV profile requires of providers (the mock itself does not check it): the
  challenge of each authorization request is kept per issued code, and a token request whose verifier does
  not hash to it gets `invalid_grant`;
- can hand the next token request the token response of *another* login (`substitute`), so that a test can
  play an attacker who swaps in a real token issued for another client or another nonce.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import werkzeug.serving

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # the mock's Authlib server refuses http otherwise

import oidc_provider_mock


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class Provider:
    """The running provider: its issuer URL, its users' claims, and the test hooks."""

    def __init__(self, max_age: timedelta = timedelta(hours=1)) -> None:
        # Nonces are not required here, so that a test can obtain a real token without one and offer it to Baken.
        self.app = oidc_provider_mock.app(require_nonce=False, access_token_max_age=max_age)
        self.challenges: dict[str, str] = {}  # code -> code_challenge
        self.token_requests: list[dict[str, list[str]]] = []
        self.substitute: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self.server: werkzeug.serving.BaseWSGIServer | None = None

    @property
    def issuer(self) -> str:
        assert self.server is not None
        return f"http://localhost:{self.server.server_port}"

    def set_user(self, sub: str, **claims: Any) -> None:
        """Create or change a user's claims (groups, roles, preferred_username...)."""
        httpx.put(f"{self.issuer}/users/{sub}", json=claims).raise_for_status()

    def log_in(self, authorize_url: str, sub: str) -> str:
        """Play the user at the provider's consent form; returns the redirect back to the client."""
        response = httpx.post(authorize_url, data={"sub": sub})
        assert response.status_code == 302, response.text
        return response.headers["location"]

    def token_response(self, client_id: str, sub: str, nonce: str | None, redirect_uri: str) -> dict[str, Any]:
        """A real token response of a complete login of ``sub`` at client ``client_id`` (with its own PKCE)."""
        verifier = base64.urlsafe_b64encode(os.urandom(40)).rstrip(b"=").decode()
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                 "scope": "openid profile email", "state": "x" * 32, "code_challenge": s256(verifier),
                 "code_challenge_method": "S256"} | ({"nonce": nonce} if nonce else {})
        back = self.log_in(f"{self.issuer}/oauth2/authorize?{urlencode(query)}", sub)
        code = parse_qs(urlsplit(back).query)["code"][0]
        response = httpx.post(f"{self.issuer}/oauth2/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier}, auth=(client_id, "geheim"))
        response.raise_for_status()
        return response.json()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/oauth2/token" and method == "POST":
            return self._token(environ, start_response)
        if path == "/oauth2/authorize" and method == "POST":
            challenge = parse_qs(environ.get("QUERY_STRING", "")).get("code_challenge", [""])[0]
            method_ = parse_qs(environ.get("QUERY_STRING", "")).get("code_challenge_method", [""])[0]

            def remember(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
                location = dict(headers).get("Location", "")
                found = re.search(r"[?&]code=([^&]+)", location)
                if found:
                    with self._lock:
                        self.challenges[found.group(1)] = challenge if method_ == "S256" else ""
                return start_response(status, headers, *rest)

            return self.app(environ, remember)
        return self.app(environ, start_response)

    def _token(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        form = parse_qs(body.decode())
        self.token_requests.append(form)
        with self._lock:
            challenge = self.challenges.pop(form.get("code", [""])[0], None)
            substitute, self.substitute = self.substitute, None
        verifier = form.get("code_verifier", [""])[0]
        if challenge is not None and (not challenge or not verifier or s256(verifier) != challenge):
            return _json(start_response, "400 Bad Request", {"error": "invalid_grant",
                                                             "error_description": "PKCE verification failed"})
        if substitute is not None:
            return _json(start_response, "200 OK", substitute)
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def _json(start_response: Any, status: str, payload: dict[str, Any]) -> list[bytes]:
    data = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                            ("Cache-Control", "no-store")])
    return [data]


@contextmanager
def running(max_age: timedelta = timedelta(hours=1)) -> Iterator[Provider]:
    """A provider serving on a free loopback port for the duration of the block."""
    provider = Provider(max_age)
    server = werkzeug.serving.make_server("localhost", 0, provider, threaded=True)
    provider.server = server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
