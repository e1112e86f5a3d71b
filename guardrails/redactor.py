"""Redaction: normalise, detect, drop allow-listed and overlapping findings, pseudonymise; and restore."""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.errors import RedactionError, UserError
from core.language import looks_english
from guardrails.detection import Detection, Detector
from guardrails.mentions import alias_key, aliases, later_mentions
from guardrails.normalise import normalise
from guardrails.patterns import BSN, EMAIL, IBAN, PHONE, PatternDetector
from guardrails.restore import restore, restore_stream
from guardrails.settings import PiiSettings
from guardrails.vault import Vault

logger = logging.getLogger(__name__)

# What a text is decides how doubt is resolved: "typed" (a question or history, what a person typed) toward
# privacy, "document" (retrieved policy text) toward precision, so that sources stay readable.
TextKind = Literal["typed", "document"]
KINDS: tuple[TextKind, ...] = ("typed", "document")


@dataclass(frozen=True)
class Finding:
    """One redacted piece of personal data; offsets are into the original input of ``redact``."""

    type: str
    start: int
    end: int
    placeholder: str
    score: float
    recognizer: str


@dataclass(frozen=True)
class Redaction:
    """The redacted text and what was taken out of it."""

    text: str
    findings: list[Finding]


def manifest(findings: Iterable[Finding]) -> list[dict[str, object]]:
    """What the audit log may keep of findings: type, offsets and placeholder, never the value."""
    return [{"type": f.type, "start": f.start, "end": f.end, "placeholder": f.placeholder} for f in findings]


def _allow_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    parts = [r"\s+".join(re.escape(word) for word in term.split()) for term in terms if term.strip()]
    if not parts:
        return None
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def _merge_same_type(detections: list[Detection]) -> list[Detection]:
    """Overlapping findings of one type become their union, with the best score and its recognizer."""
    merged: list[Detection] = []
    for current in sorted(detections, key=lambda d: (d.type, d.start)):
        last = merged[-1] if merged else None
        if last is not None and last.type == current.type and current.start < last.end:
            best = last if last.score >= current.score else current
            merged[-1] = Detection(last.type, last.start, max(last.end, current.end), best.score,
                                   best.recognizer, best.explanation)
        else:
            merged.append(current)
    return merged


def _select(detections: list[Detection]) -> list[Detection]:
    """Non-overlapping findings: same-type overlaps are joined, then the highest score wins, then the longest."""
    starts: list[int] = []  # kept spans, sorted and disjoint, so one neighbour check per side suffices
    kept: list[Detection] = []
    for candidate in sorted(_merge_same_type(detections), key=lambda d: (-d.score, -(d.end - d.start), d.start)):
        index = bisect.bisect_left(starts, candidate.start)
        if index > 0 and kept[index - 1].end > candidate.start:
            continue
        if index < len(kept) and kept[index].start < candidate.end:
            continue
        starts.insert(index, candidate.start)
        kept.insert(index, candidate)
    return kept


class _Pseudonymiser:
    """The pipeline around a detection function; Redactor and FakeRedactor differ only in how they detect."""

    def __init__(self, settings: PiiSettings, detect: Callable[[str, TextKind], list[Detection]]) -> None:
        self.settings = settings
        self._detect = detect
        self._allow = _allow_pattern(settings.allow_list)

    def redact(self, text: str, vault: Vault, kind: TextKind = "typed") -> Redaction:
        """``text`` with personal data replaced by the vault's placeholders; fails closed with RedactionError.

        ``kind`` is "typed" (the default: a question or history, recall first) or "document" (retrieved
        text, precision first)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if not isinstance(text, str):
            raise UserError(f"only text can be redacted, not {type(text).__name__}")
        if len(text) > self.settings.max_chars:
            raise UserError(f"the text has {len(text):,} characters; at most {self.settings.max_chars:,} can be "
                            "checked for personal data: shorten it")
        if not self.settings.enabled or not text.strip():
            return Redaction(text, [])
        try:
            normalised = normalise(text)
            detections = [d for d in self._detect(normalised.text, kind) if d.score >= self.settings.score_threshold
                          and d.end > d.start]
            detections = _select(self._without_allowed(normalised.text, detections))
            # A surname on its own after the full name, here or in an earlier turn, is the same person.
            names = [normalised.text[d.start:d.end] for d in detections if d.type == "PERSOON"]
            refers = aliases(names + vault.values("PERSOON"), strict=kind == "document")
            mentions = later_mentions(normalised.text, refers)
            if mentions:
                detections = _select(detections + self._without_allowed(normalised.text, mentions))
            findings = []
            pieces = []
            last = 0
            for detection in detections:
                start, end = normalised.span(detection.start, detection.end)
                if start < last:
                    continue
                value = text[start:end]
                if detection.type == "PERSOON" and alias_key(value) in refers:  # "De Vries" after "Jan de Vries"
                    value = refers[alias_key(value)]
                placeholder = vault.placeholder(detection.type, value)
                findings.append(Finding(detection.type, start, end, placeholder, round(detection.score, 2),
                                        detection.recognizer))
                pieces += [text[last:start], placeholder]
                last = end
            pieces.append(text[last:])
        except (UserError, RedactionError):
            raise
        except Exception as exc:  # fail closed: no detection, no text
            logger.error("personal-data detection failed: %s", type(exc).__name__)
            raise RedactionError("personal-data detection failed, so the text was not passed on") from exc
        return Redaction("".join(pieces), findings)

    def _without_allowed(self, text: str, detections: list[Detection]) -> list[Detection]:
        if self._allow is None:
            return detections
        allowed = [m.span() for m in self._allow.finditer(text)]
        return [d for d in detections if not any(s <= d.start and d.end <= e for s, e in allowed)]

    def restore(self, text: str, vault: Vault) -> str:
        """Placeholders in ``text`` back to their values (for the asker only)."""
        return restore(text, vault)

    def restore_stream(self, tokens: Iterable[str], vault: Vault) -> Iterator[str]:
        """Restore streamed model output; a placeholder split across tokens is held back until complete."""
        return restore_stream(tokens, vault)


class Redactor(_Pseudonymiser):
    """The real redactor: Presidio with Baken's Dutch and English recognizers; build once, it loads spaCy."""

    def __init__(self, settings: PiiSettings, models_dir: Path) -> None:
        from guardrails.addresses import AddressDetector
        from guardrails.lexicon import lexicon
        from guardrails.names import NameDetector
        from guardrails.patterns import DOCUMENT_RULES, TYPED_RULES, IbanDetector
        from guardrails.presidio_engine import PresidioEngine
        from guardrails.typed_names import TypedNameDetector
        from models.provision import resolve, verify

        english_model = None
        if "en" in settings.languages:
            model = resolve(settings.english_model, "spacy", models_dir)
            verify(model)
            english_model = model.path
        try:
            lists = lexicon()
            detectors: dict[str, list[Detector]] = {
                kind: [PatternDetector(TYPED_RULES if kind == "typed" else DOCUMENT_RULES), IbanDetector(),
                       NameDetector(lexicon=lists), TypedNameDetector(mode=kind, lexicon=lists),
                       AddressDetector(mode=kind, lexicon=lists)]
                for kind in KINDS
            }
            self.engine = PresidioEngine(detectors, english_model, settings.score_threshold)
        except Exception as exc:
            raise RedactionError(f"the personal-data engine could not start: {exc}") from exc
        super().__init__(settings, self._analyze)

    def _analyze(self, text: str, kind: TextKind) -> list[Detection]:
        return self.engine.analyze(text, english=looks_english(text), kind=kind)


class FakeRedactor(_Pseudonymiser):
    """Regex-only redactor (BSN, IBAN, e-mail, Dutch phone) with the real interface, for fast tests."""

    def __init__(self, settings: PiiSettings | None = None, models_dir: Path | None = None) -> None:
        patterns = PatternDetector([BSN, IBAN, EMAIL, PHONE])
        super().__init__(settings or PiiSettings(), lambda text, kind: patterns.detect(text))
