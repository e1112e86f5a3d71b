"""A process killed with SIGKILL while appending leaves a chain that verifies; processes cannot fork it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from assistant.audit import AuditLog, AuditSettings

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import sys
from pathlib import Path
from assistant.audit import AuditLog, AuditSettings
data = Path(sys.argv[1])
log = AuditLog.open(AuditSettings(checkpoint_every=7, durable={durable}), data)
print("ready", flush=True)
for n in range(int(sys.argv[2])):
    log.append("conversation.turn", actor="writer", role="user", record={{"n": n}},
               content={{"question": "q" * 2000, "answer": str(n)}}, conversation_id="c", outcome="answered")
log.close()
"""


def _writer(tmp_path: Path, count: int, durable: bool = True) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER.format(durable=durable), str(tmp_path), str(count)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_writer_killed_mid_append_leaves_a_verifying_chain(tmp_path: Path) -> None:
    for round_ in range(3):
        process = _writer(tmp_path, 1_000_000)
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        time.sleep(0.3 + 0.1 * round_)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL
    log = AuditLog.open(AuditSettings(), tmp_path)
    result = log.verify()
    assert result.ok, result.reason
    assert result.records > 10
    log.append("conversation.turn", actor="after", role="user", record={})  # the log goes on after a crash
    assert log.verify().ok
    log.close()


def test_two_processes_appending_at_once_keep_one_chain(tmp_path: Path) -> None:
    writers = [_writer(tmp_path, 150, durable=False) for _ in range(2)]
    for process in writers:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    log = AuditLog.open(AuditSettings(), tmp_path)
    result = log.verify()
    assert result.ok and result.records == 300
    log.close()
