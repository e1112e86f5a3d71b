"""The VectorStore contract of test_store.py, run against a Chroma server (`chroma run`) on a loopback port."""

from __future__ import annotations

import inspect
import time
import uuid

import pytest

from core.errors import BackendUnavailable
from ingestion.store import ChromaStore
from tests.ingestion import test_store as contract
from tests.servers import ChromaServer, free_port

# Every contract test that takes the `store` fixture runs here too, on the server-backed store below.
for _name, _test in vars(contract).items():
    if _name.startswith("test_") and "store" in inspect.signature(_test).parameters:
        globals()[_name] = _test


@pytest.fixture
def store(chroma_server: ChromaServer) -> ChromaStore:
    """A server-backed store in a collection of its own, so tests sharing the server do not see each other."""
    return ChromaStore.connect(chroma_server.url, collection=f"t{uuid.uuid4().hex}")


def test_two_clients_of_one_server_share_the_index(chroma_server: ChromaServer) -> None:
    name = f"t{uuid.uuid4().hex}"
    writer, reader = ChromaStore.connect(chroma_server.url, collection=name), ChromaStore.connect(
        chroma_server.url, collection=name)
    contract._add(writer, "a", [[1.0, 0.0], [0.0, 1.0]])
    assert reader.count() == 2
    assert [h.id for h in reader.query([1.0, 0.0], k=1)] == ["a-0"]
    reader.check()


def test_a_server_that_is_down_is_backend_unavailable_with_its_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=f"cannot open the index at {url}"):
        ChromaStore.connect(url)
    assert time.monotonic() - started < 10
