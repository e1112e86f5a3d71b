"""The house rules of STYLE.md, checked by an import scan: dependencies point one way, and each third-party
library is imported in exactly one adapter module."""

from __future__ import annotations

import ast
from collections import defaultdict

from tests.paths import REPO

PACKAGES = ("core", "models", "ingestion", "guardrails", "assistant", "web", "baken")
ALLOWED = {  # package -> our other packages it may import; the order of the floors, with no exemptions
    "core": set(),
    "models": {"core"},
    "guardrails": {"core", "models"},
    "ingestion": {"core", "models"},
    "assistant": {"core", "ingestion", "guardrails", "models"},
    "web": {"core", "assistant", "ingestion", "guardrails", "models"},
    "baken": {"core", "assistant", "ingestion", "guardrails", "models", "web"},
}
MAX_LINES = 400  # STYLE.md: modules of 50-300 lines, split at about 400
ADAPTERS: dict[str, str | set[str]] = {  # third-party library -> the one module that may import it
    "llama_cpp": "assistant/llamacpp.py",
    "chromadb": "ingestion/store.py",
    "sentence_transformers": "ingestion/embedder.py",
    # OpenVINO runs the exported embedder, and converts it at provisioning time (with NNCF's quantiser).
    "openvino": {"ingestion/openvino_embedder.py", "ingestion/openvino_export.py"},
    "nncf": "ingestion/openvino_export.py",
    "tokenizers": "ingestion/wordpieces.py",
    "pypdf": "ingestion/parsers.py",
    "docx": "ingestion/parsers.py",
    "odf": "ingestion/formats/odf.py",
    "openpyxl": "ingestion/formats/sheets.py",
    "pptx": "ingestion/formats/slides.py",
    "charset_normalizer": "ingestion/formats/encoding.py",
    "olefile": "ingestion/formats/outlook.py",
    "presidio_analyzer": "guardrails/presidio_engine.py",
    "spacy": "guardrails/presidio_engine.py",
    "cryptography": "assistant/audit/signing.py",
    # The audit store needs psycopg's own locking and error types; every other table goes through core.database.
    "psycopg": {"assistant/audit/postgres_store.py", "core/database.py"},
    "httpx": {"assistant/openai_llm.py", "ingestion/remote_embedder.py"},  # one adapter per remote role
    "prometheus_client": "assistant/metrics.py",
    "bm25s": "ingestion/lexical.py",
    "Stemmer": "ingestion/lexical.py",
    "authlib": "web/accounts/oidc.py",
    "joserfc": "web/accounts/oidc.py",
}


def modules() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = []
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names += [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.append(node.module)
            found[path.relative_to(REPO).as_posix()] = names
    return found


def test_dependencies_point_one_way() -> None:
    violations = [f"{path} imports {name}" for path, imports in modules().items() for name in imports
                  if (top := name.split(".")[0]) in PACKAGES and top != path.split("/")[0]
                  and top not in ALLOWED[path.split("/")[0]]]
    assert violations == []


def test_nothing_imports_the_top_floor() -> None:
    offenders = [f"{path} imports {name}" for path, imports in modules().items() for name in imports
                 if name.split(".")[0] == "baken" and not path.startswith("baken/")]
    assert offenders == []


def test_modules_stay_under_the_split_size() -> None:
    long = {path: lines for package in PACKAGES for file in (REPO / package).rglob("*.py")
            if (lines := len(file.read_text(encoding="utf-8").splitlines())) > MAX_LINES
            and (path := file.relative_to(REPO).as_posix())}
    assert long == {}


def test_each_library_is_imported_in_one_adapter_module() -> None:
    users: dict[str, set[str]] = defaultdict(set)
    for path, imports in modules().items():
        for name in imports:
            top = name.split(".")[0]
            if top in ADAPTERS:
                users[top].add(path)
    for library, adapter in ADAPTERS.items():
        allowed = adapter if isinstance(adapter, set) else {adapter}
        assert users[library] <= allowed, f"{library} imported outside {allowed}: {users[library]}"
