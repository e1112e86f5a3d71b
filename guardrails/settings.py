"""Settings of the personal-data guardrail; the lead mounts them as ``Settings.pii`` (``BAKEN_PII__...``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

DEFAULT_ALLOW_LIST = [
    "Gemeente Voorbeeld",
    "gemeente Voorbeeld",
    "Voorbeeld",
    "14 0123",
    "140123",
    "Raadhuisplein 1",
    "1234 AB Voorbeeld",
    "Postbus 1",
    "info@voorbeeld.nl",
    "www.voorbeeld.nl",
]


class PiiSettings(BaseModel):
    """Detection and pseudonymisation of personal data before text reaches the model."""

    enabled: bool = Field(
        default=True, description="Redact personal data from everything the prompt is built from."
    )
    redact_sources: bool = Field(
        default=True, description="Also redact the retrieved chunks (policy documents can quote citizens)."
    )
    allow_list: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ALLOW_LIST),
        description="Terms never redacted (case-insensitive): the municipality's name, public numbers and "
        "addresses, names of public office holders.",
    )
    languages: list[str] = Field(
        default_factory=lambda: ["nl", "en"],
        description="Languages detected; 'nl' (patterns and name lists) always runs, 'en' adds spaCy's "
        "English NER for text that looks English.",
    )
    score_threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Findings scoring below this are not redacted."
    )
    english_model: str = Field(
        default="en-core-web-sm",
        description="Catalogue name or path of the spaCy English pipeline used for person names.",
    )
    max_chars: int = Field(
        default=2_000_000, ge=1, description="Longest text accepted for redaction; longer input is refused."
    )
