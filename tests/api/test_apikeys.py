"""API keys: shown once and stored as a hash, refused once revoked, counted per minute; and the request parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from baken.settings import Settings
from core.database import Database
from core.errors import NotFound, UserError
from tests.web.conftest import dialect_settings  # noqa: F401  (the fixture: SQLite and PostgreSQL)
from web.api.gateway import ApiError, ChatRequest
from web.api.keys import ApiKeys, hash_token
from web.db import open_web_database


@pytest.fixture
def keys(tmp_path: Path) -> ApiKeys:
    return ApiKeys(Database(tmp_path / "web.sqlite3"))


def test_a_key_is_stored_only_as_the_hash_of_its_token(keys: ApiKeys, tmp_path: Path) -> None:
    key, token = keys.add("open-webui", "Team DIV", "GovChat-NL", ("beleid", "hr"), 30)
    assert token.startswith("bk-") and len(token) > 40
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert token.encode() not in stored and hash_token(token).encode() in stored
    assert keys.authenticate(token) == key
    assert key.collections == ("beleid", "hr") and key.rate_per_minute == 30


def test_a_revoked_or_unknown_token_is_refused(keys: ApiKeys) -> None:
    key, token = keys.add("script", "Team DIV", "tests")
    assert keys.authenticate("bk-unknown") is None and keys.authenticate("no-prefix") is None
    keys.revoke("script")
    assert keys.authenticate(token) is None
    assert [k.revoked is not None for k in keys.registered()] == [True]
    with pytest.raises(NotFound):
        keys.revoke(key.id)


def test_a_name_is_taken_once_and_a_key_needs_owner_and_purpose(keys: ApiKeys) -> None:
    keys.add("word", "DIV", "add-in")
    with pytest.raises(UserError):
        keys.add("Word", "DIV", "add-in")
    with pytest.raises(UserError):
        keys.add("excel", "", "add-in")


def test_the_rate_counts_calls_per_minute_and_says_when_to_retry(keys: ApiKeys) -> None:
    key, _ = keys.add("rated", "DIV", "tests", rate_per_minute=2)
    minute = 1_800_000_000 - 1_800_000_000 % 60
    assert keys.take_call(key, minute + 1) == 0 and keys.take_call(key, minute + 2) == 0
    assert keys.take_call(key, minute + 50) == pytest.approx(10)
    assert keys.take_call(key, minute + 61) == 0  # the next minute starts afresh


def test_the_rate_is_one_count_for_every_host_on_either_dialect(dialect_settings: Settings) -> None:  # noqa: F811
    db = open_web_database(dialect_settings)
    key, _ = ApiKeys(db).add("shared", "DIV", "tests", rate_per_minute=3)
    hosts = [ApiKeys(db), ApiKeys(open_web_database(dialect_settings))]
    minute = 1_800_000_000 - 1_800_000_000 % 60
    assert [hosts[n % 2].take_call(key, minute + n) for n in range(4)] == [0, 0, 0, pytest.approx(57)]
    assert hosts[1].take_call(key, minute + 60) == 0


def test_the_migrations_run_once(tmp_path: Path) -> None:
    db = Database(tmp_path / "web.sqlite3")
    ApiKeys(db).add("kept", "DIV", "tests")
    again = ApiKeys(db)
    with db.connect() as conn:
        names = [r["name"] for r in conn.execute("SELECT name FROM api_migrations ORDER BY name").fetchall()]
    assert names == ["001_api_keys", "002_api_rate"] and [k.name for k in again.registered()] == ["kept"]


USER = {"role": "user", "content": "Hallo"}


@pytest.mark.parametrize(("body", "status", "param"), [
    ([], 400, None),
    ({"messages": [USER]}, 400, "model"),
    ({"model": "gpt-4o", "messages": [USER]}, 404, "model"),
    ({"model": "baken", "messages": []}, 400, "messages"),
    ({"model": "baken", "messages": [{"content": "x"}]}, 400, "messages[0]"),
    ({"model": "baken", "messages": [{"role": "tool", "content": "x"}]}, 400, "messages[0].role"),
    ({"model": "baken", "messages": [{"role": "user", "content": 3}]}, 400, "messages[0].content"),
    ({"model": "baken", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, 400,
     "messages[0].content"),
    ({"model": "baken", "messages": [USER], "max_tokens": "many"}, 400, "max_tokens"),
    ({"model": "baken", "messages": [USER], "stop": [1]}, 400, "stream_options"),
])
def test_a_malformed_request_names_what_is_wrong(body: object, status: int, param: str | None) -> None:
    with pytest.raises(ApiError) as refused:
        ChatRequest.parse(body)
    assert refused.value.status == status and refused.value.param == param
    assert set(refused.value.body()["error"]) == {"message", "type", "code", "param"}


def test_a_request_takes_text_parts_developer_messages_and_stream_options() -> None:
    parsed = ChatRequest.parse({"model": "baken-guarded", "stream": True, "stream_options": {"include_usage": True},
                                "user": "u-1", "max_completion_tokens": 64, "stop": "###", "messages": [
                                    {"role": "developer", "content": "Wees kort."},
                                    {"role": "user", "content": [{"type": "text", "text": "Hallo"}]}]})
    assert parsed.messages == [{"role": "system", "content": "Wees kort."}, {"role": "user", "content": "Hallo"}]
    assert parsed.stream and parsed.include_usage and parsed.user == "u-1" and parsed.max_tokens == 64
    assert parsed.stop == ("###",)
