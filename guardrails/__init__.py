"""Personal data out before text reaches the model, back in for the asker only."""

from guardrails.redactor import FakeRedactor, Finding, Redaction, Redactor, manifest
from guardrails.settings import PiiSettings
from guardrails.vault import Vault

__all__ = ["FakeRedactor", "Finding", "PiiSettings", "Redaction", "Redactor", "Vault", "manifest"]
