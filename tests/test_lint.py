"""Ruff over the whole tree, as part of `make test`: the pinned version with the rules listed in pyproject.toml
finds nothing (it takes under a second; mypy stays in `make lint`)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from tests.paths import REPO


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False)


def test_ruff_is_the_version_pinned_in_the_test_extra() -> None:
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    pins = [match.group(1) for spec in extra if (match := re.fullmatch(r"ruff==(\S+)", spec))]
    assert len(pins) == 1, "the test extra pins ruff with =="
    result = _ruff("--version")
    assert result.returncode == 0, f"ruff is not installed (pip install -e '.[test]'): {result.stderr}"
    assert result.stdout.split() == ["ruff", pins[0]]


def test_ruff_finds_nothing_in_the_tree() -> None:
    result = _ruff("check", ".", "--no-cache", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr
