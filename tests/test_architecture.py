"""The house rules of STYLE.md, checked by an import scan: dependencies point one way, and each third-party
library is imported in exactly one adapter module."""

from __future__ import annotations

import ast
from collections import defaultdict

from tests.paths import REPO

PACKAGES = ("baken", "models", "ingestion", "guardrails", "assistant", "web")
SHARED = {"baken.errors", "baken.settings", "baken.database", "baken.process"}  # the shared vocabulary every layer may use
ALLOWED = {  # package -> our packages it may import (besides itself and SHARED)
    "models": set(),
    "guardrails": {"models"},
    "ingestion": {"models"},
    "assistant": {"ingestion", "guardrails", "models"},
    "web": {"assistant", "ingestion", "guardrails", "models"},
    "baken": {"assistant", "ingestion", "guardrails", "models", "web", "baken"},
}
ADAPTERS: dict[str, str | set[str]] = {  # third-party library -> the one module that may import it
    "llama_cpp": "assistant/llamacpp.py",
    "chromadb": "ingestion/store.py",
    "sentence_transformers": "ingestion/embedder.py",
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
    # The audit store needs psycopg's own locking and error types; every other table goes through baken.database.
    "psycopg": {"assistant/audit/postgres_store.py", "baken/database.py"},
    "httpx": "assistant/openai_llm.py",
    "prometheus_client": "assistant/metrics.py",
    "bm25s": "ingestion/lexical.py",
    "Stemmer": "ingestion/lexical.py",
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
    violations = []
    for path, imports in modules().items():
        package = path.split("/")[0]
        for name in imports:
            top = name.split(".")[0]
            if top not in PACKAGES or top == package and package != "baken" or name in SHARED:
                continue
            allowed = ALLOWED[package]
            if not any(name == a or name.startswith(a + ".") or top == a for a in allowed):
                violations.append(f"{path} imports {name}")
    assert violations == []


def test_nothing_imports_the_cli_or_web() -> None:
    offenders = [f"{path} imports {name}" for path, imports in modules().items() for name in imports
                 if (name.startswith("baken.cli") and not path.startswith("baken/cli/"))
                 or (name.split(".")[0] == "web" and name != "web.settings"
                     and not path.startswith(("web/", "baken/cli/")))]
    assert offenders == []


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
