"""AuditSettings: described fields, defaults under DATA_DIR, and the AI Act's six-month floor."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.audit import AuditSettings


def test_every_setting_is_described() -> None:
    assert all(field.description for field in AuditSettings.model_fields.values())


def test_the_database_and_keys_default_to_separate_places_under_the_data_dir(tmp_path: Path) -> None:
    settings = AuditSettings()
    assert settings.database_path(tmp_path) == tmp_path / "audit" / "audit.sqlite3"
    assert settings.keys_path(tmp_path) == tmp_path / "keys"


def test_metadata_cannot_be_kept_less_than_six_months() -> None:
    with pytest.raises(ValidationError):
        AuditSettings(metadata_retention_days=30)


def test_no_kind_of_metadata_can_be_kept_less_than_six_months() -> None:
    with pytest.raises(ValidationError, match="183 days"):
        AuditSettings(retention_days_by_kind={"auth": 90})
