"""Lint as part of `make test`, with the versions pinned in the test extra: ruff over the whole tree with the
rules listed in pyproject.toml (under a second), and mypy over the packages its [tool.mypy] lists (about 20 s
from a cold cache, a few seconds warm)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from tests.paths import REPO


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", tool, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_the_linter_is_the_version_pinned_in_the_test_extra(tool: str) -> None:
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    pins = [match.group(1) for spec in extra if (match := re.fullmatch(rf"{tool}==(\S+)", spec))]
    assert len(pins) == 1, f"the test extra pins {tool} with =="
    result = _run(tool, "--version")
    assert result.returncode == 0, f"{tool} is not installed (pip install -e '.[test]'): {result.stderr}"
    assert result.stdout.split()[:2] == [tool, pins[0]]


def test_ruff_finds_nothing_in_the_tree() -> None:
    result = _run("ruff", "check", ".", "--no-cache", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing_in_our_packages() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
