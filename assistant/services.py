"""What a front end (the CLI or the web app) is given: the index, the assistant, the audit log and the metrics,
built once per process by `baken.wiring.build_services` and passed to `web.app.create_app(settings, services)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.settings import TurnSettings
from assistant.turn import Assistant
from ingestion.index import Index

if TYPE_CHECKING:
    from assistant.audit import AuditLog
    from assistant.metrics import Metrics
    from ingestion.folder_sync import FolderSync


@dataclass
class Services:
    """Everything a front end needs, built once per process from settings."""

    settings: TurnSettings
    index: Index
    assistant: Assistant
    audit: AuditLog | None = None
    metrics: Metrics | None = None  # what /metrics serves; none in tests that do not ask for it
    folder_sync: FolderSync | None = None  # folder sync's runs and the scheduled job; none in most tests

    def close(self) -> None:
        """Release files and connections."""
        if self.audit is not None:
            self.audit.close()
