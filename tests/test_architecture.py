"""The house rules of STYLE.md, checked by an import scan: dependencies point one way, nothing imports the top
floor, every third-party library is imported only in its adapter module(s), no module is over the split size,
and no two of our modules import each other (directly or round about) when they load."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from fnmatch import fnmatch

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
    "argon2": "web/accounts/store.py",
    "jinja2": "web/context.py",
    # Jinja's safe-string type: the template environment, and the charts that write SVG for it.
    "markupsafe": {"web/context.py", "web/audit/charts.py", "web/audit/overview_charts.py"},
    # The one pattern: the web floor as a whole is the HTTP framework's adapter (routes, middleware, responses).
    "litestar": "web/*",
    "uvicorn": "baken/cli/serve.py",
    # SQLite through the database seam; the audit store takes its own exclusive write lock (as with psycopg).
    "sqlite3": {"core/database.py", "assistant/audit/sqlite_store.py"},
    "torch": "ingestion/embedder.py",
    "numpy": {"ingestion/lexical.py", "ingestion/openvino_embedder.py", "ingestion/wordpieces.py"},
    # Settings and request validation: each floor's settings section, and the CLI that reports its errors.
    "pydantic": {"core/database.py", "core/logging_setup.py", "guardrails/settings.py", "ingestion/settings.py",
                 "assistant/settings.py", "assistant/remote_settings.py", "assistant/audit/settings.py",
                 "web/settings.py", "web/accounts/sso.py", "baken/settings.py", "baken/cli/main.py",
                 "baken/cli/migrate.py", "baken/cli/audit.py"},
    "pydantic_settings": "baken/settings.py",  # only the composed Settings reads the environment
    "tqdm": {"baken/cli/documents.py", "baken/cli/index.py", "baken/cli/sync.py"},  # the CLI's progress bars
    "faker": "guardrails/data/build_lists.py",  # a build script for the word lists, not run by Baken
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


def _third_party_users() -> dict[str, set[str]]:
    users: dict[str, set[str]] = defaultdict(set)
    for path, imports in modules().items():
        for name in imports:
            top = name.split(".")[0]
            if top not in PACKAGES and (top not in sys.stdlib_module_names or top == "sqlite3"):
                users[top].add(path)
    return users


def test_each_library_is_imported_in_one_adapter_module() -> None:
    for library, users in _third_party_users().items():
        adapter = ADAPTERS.get(library, set())
        allowed = adapter if isinstance(adapter, set) else {adapter}
        outside = {path for path in users if not any(fnmatch(path, pattern) for pattern in allowed)}
        assert outside == set(), f"{library} imported outside its adapter {allowed or '(none named)'}: {outside}"


def test_every_adapter_named_is_a_module_that_exists() -> None:
    paths = set(modules())
    for library, adapter in ADAPTERS.items():
        for pattern in adapter if isinstance(adapter, set) else {adapter}:
            assert any(fnmatch(path, pattern) for path in paths), f"{library}: no module {pattern}"


def _loading_imports(tree: ast.Module) -> list[str]:
    """What a module imports when it loads: its top-level imports (also inside top-level try/if), not those in
    functions (deliberately late) nor under TYPE_CHECKING."""
    names: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.dump(statement.test):
            continue
        nodes = ast.walk(statement) if isinstance(statement, (ast.If, ast.Try)) else [statement]
        for node in nodes:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_no_import_cycle() -> None:
    files = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {module: {name for name in _loading_imports(ast.parse(path.read_text(encoding="utf-8")))
                      if name in files and name != module} for module, path in files.items()}
    cycles, done = [], set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycles.append(trail[trail.index(module):] + [module])
            return
        if module in done:
            return
        for name in sorted(graph[module]):
            visit(name, trail + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert cycles == []
