"""Application logging, configured once at start-up: readable text on a terminal, or one JSON object a line
for a log collector (``BAKEN_LOG__FORMAT=json``). Content never belongs here: the audit log holds it."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from pydantic import BaseModel, Field

# Attributes every LogRecord has; anything else on a record came from `extra=` and is emitted as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
# `extra=` keys that would carry user or document text are blanked, whoever passes them.
_CONTENT_KEYS = {"question", "answer", "prompt", "messages", "text", "content", "query", "chunk", "document_text"}


class LogSettings(BaseModel):
    """How the application log is written."""

    format: str = Field("text", pattern="^(text|json)$",
                        description="text (human readable) or json (one object a line, for log collectors).")
    level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$",
                       description="Lowest level written.")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, the `extra=` fields and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = "[withheld]" if key in _CONTENT_KEYS else value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


NOISY_LIBRARIES = ("presidio-analyzer", "httpx", "httpcore", "bm25s", "chromadb", "sentence_transformers",
                   "transformers", "urllib3", "uvicorn.access")


def configure_logging(settings: LogSettings | None = None, stream: TextIO | None = None) -> None:
    """Route every logger to one stderr handler in the chosen format; replaces handlers set by libraries."""
    settings = settings or LogSettings(format="text", level="INFO")
    handler = logging.StreamHandler(stream or sys.stderr)
    if settings.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.level, handlers=[handler], force=True)
    for chatty in NOISY_LIBRARIES:  # they log every request or analysis at INFO; ours say what matters
        library = logging.getLogger(chatty)
        library.handlers.clear()
        library.propagate = True
        library.setLevel(max(logging.WARNING, logging.getLevelName(settings.level)))
    logging.captureWarnings(True)
