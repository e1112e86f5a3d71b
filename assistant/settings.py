"""How answers are made: evidence only, checked model text, or the model when its text passes the check."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AnswerSettings(BaseModel):
    """The answer: its mode and the calibrated thresholds of the sentence check (`assistant.check`)."""

    mode: str = Field(
        "auto", pattern="^(auto|extractive|generative)$",
        description="extractive: the evidence sentences only, no model call; generative: the model's checked"
                    " text (unsupported sentences marked) under the evidence; auto: the model's supported"
                    " sentences when enough of its answer passes the check, else the evidence alone.",
    )
    min_supported: float = Field(
        0.5, ge=0.0, le=1.0,
        description="auto: the share of the model's sentences that must be supported for its text to be shown.",
    )
    min_evidence: float = Field(
        0.33, ge=0.0, le=1.0,
        description="Share of the question's words (stemmed, compounds split) the best evidence sentence must"
                    " hold for the question to have a source when neither retrieval signal reaches its own"
                    " threshold (half, when the sentence lacks the number, date or role the question asks"
                    " for); calibrated with `python -m bench.eval --answers`.",
    )
