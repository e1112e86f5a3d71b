"""Structured logs: one JSON object a line, extras as fields, content keys withheld."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from core.logging_setup import LogSettings, configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_logs_are_one_object_a_line_with_extras_and_no_content(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(LogSettings(format="json", level="INFO"), stream)
    log = logging.getLogger("baken.test")
    log.info("turn %s finished", "e-1", extra={"outcome": "answered", "duration_ms": 812.5,
                                               "question": "Mijn BSN is 111222333"})
    log.debug("not written")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "turn e-1 finished" and first["level"] == "INFO" and first["logger"] == "baken.test"
    assert first["outcome"] == "answered" and first["duration_ms"] == 812.5
    assert first["question"] == "[withheld]" and "111222333" not in stream.getvalue()
    assert first["time"].endswith("+00:00")
    assert second["exception"] == "ValueError" and "boom" in second["traceback"]


def test_text_logs_are_readable_lines(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(LogSettings(), stream)
    logging.getLogger("baken.test").warning("index at %s", "/data")
    assert stream.getvalue().rstrip().endswith("WARNING baken.test: index at /data")


def test_settings_refuse_an_unknown_format() -> None:
    with pytest.raises(ValueError):
        LogSettings(format="xml")
