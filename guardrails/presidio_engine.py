"""The one adapter of Presidio (and spaCy): our detectors as Presidio recognizers, plus spaCy's English NER."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import spacy
from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from guardrails.capitals import unexplained_capital_spans
from guardrails.detection import Detection, Detector

logger = logging.getLogger(__name__)

ENGLISH_NER = "EnglishNerRecognizer"
# Long texts are analysed in pieces: spaCy refuses over a million characters, and Presidio's handling of
# results grows faster than linearly with their number.
MAX_PIECE = 20_000


class DetectorRecognizer(EntityRecognizer):
    """A Baken detector seen by Presidio as an EntityRecognizer."""

    def __init__(self, detector: Detector, language: str) -> None:
        self.detector = detector
        super().__init__(supported_entities=list(detector.types), name=detector.name, supported_language=language)

    def load(self) -> None:
        """Nothing to load: the detector is ready."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        """The detector's findings as RecognizerResults, with their explanation."""
        results = []
        for found in self.detector.detect(text):
            if entities and found.type not in entities:
                continue
            explanation = AnalysisExplanation(recognizer=found.recognizer, original_score=found.score,
                                              textual_explanation=found.explanation)
            results.append(RecognizerResult(
                found.type, found.start, found.end, found.score, analysis_explanation=explanation,
                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: found.recognizer,
                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return results


class PresidioEngine:
    """Presidio's AnalyzerEngine with Baken's recognizers: 'nl' runs every detector on a blank Dutch pipeline,
    'en' runs spaCy's English NER for person names. One analyzer per kind of text ("typed", "document"), each
    with its own detectors, sharing the pipelines."""

    def __init__(self, detectors: Mapping[str, Sequence[Detector]], english_model: Path | None,
                 threshold: float) -> None:
        self.threshold = threshold
        self._lock = threading.Lock()
        pipelines: dict[str, spacy.language.Language] = {"nl": spacy.blank("nl")}
        if english_model is not None:
            pipelines["en"] = spacy.load(english_model, exclude=["parser", "tagger", "attribute_ruler",
                                                                 "lemmatizer", "senter"])
        ner = NerModelConfiguration(model_to_presidio_entity_mapping={"PERSON": "PERSOON"},
                                    labels_to_ignore=["CARDINAL", "ORDINAL", "DATE", "TIME", "MONEY", "PERCENT",
                                                      "QUANTITY", "GPE", "LOC", "ORG", "NORP", "FAC", "EVENT",
                                                      "PRODUCT", "LAW", "LANGUAGE", "WORK_OF_ART"])
        nlp_engine = SpacyNlpEngine(models=[{"lang_code": code, "model_name": code} for code in pipelines],
                                    ner_model_configuration=ner)
        # Loaded here, so that Presidio never tries to download a model.
        nlp_engine.nlp = pipelines  # type: ignore[assignment]
        self.analyzers: dict[str, AnalyzerEngine] = {}
        for kind, kind_detectors in detectors.items():
            registry = RecognizerRegistry(supported_languages=list(pipelines))
            for detector in kind_detectors:
                registry.add_recognizer(DetectorRecognizer(detector, "nl"))
            if english_model is not None:
                registry.add_recognizer(SpacyRecognizer(supported_language="en", supported_entities=["PERSOON"],
                                                        name=ENGLISH_NER))
            self.analyzers[kind] = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine,
                                                  supported_languages=list(pipelines),
                                                  default_score_threshold=threshold)
        self.analyzer = next(iter(self.analyzers.values()))
        self.languages = tuple(pipelines)

    def analyze_raw(self, text: str, language: str, kind: str | None = None) -> list[RecognizerResult]:
        """Presidio's own ``analyze`` on one text in one language, with the decision process."""
        analyzer = self.analyzers[kind] if kind is not None else self.analyzer
        with self._lock:  # spaCy's pipeline (its string store grows) is not safe to share between threads
            return analyzer.analyze(text=text, language=language, score_threshold=self.threshold,
                                    return_decision_process=True)

    def analyze(self, text: str, english: bool, kind: str | None = None) -> list[Detection]:
        """Findings in ``text`` (Dutch detectors always, English NER when asked), split in pieces if long."""
        found: list[Detection] = []
        for offset, piece in _pieces(text):
            dutch = [_detection(result, 0) for result in self.analyze_raw(piece, "nl", kind)]
            found += [replace(d, start=d.start + offset, end=d.end + offset) for d in dutch]
            if english and "en" in self.languages:
                # English NER is the costly part: run it only on sentences with a capitalised word that no
                # other recognizer accounts for.
                for start, end in _ner_windows(piece, [(d.start, d.end) for d in dutch]):
                    found += [_detection(r, offset + start) for r in
                              self.analyze_raw(piece[start:end], "en", kind)]
        return found


_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


# Words of context English NER gets on each side of a capitalised word it must judge.
_NER_CONTEXT = 60


def _ner_windows(text: str, covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans of ``text`` that English NER must read: each capitalised word no finding explains, with about
    60 characters of its sentence on either side (a text without full stops is not read whole)."""
    windows: list[tuple[int, int]] = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        inside = [(a - start, b - start) for a, b in covered if a < end and b > start]
        for cap_start, cap_end in unexplained_capital_spans(text[start:end], inside):
            left = text.rfind(" ", start, max(start, start + cap_start - _NER_CONTEXT))
            right = text.find(" ", min(end, start + cap_end + _NER_CONTEXT), end)
            window = (start if left < 0 else left + 1, end if right < 0 else right)
            if windows and windows[-1][1] >= window[0] - 1:
                windows[-1] = (windows[-1][0], max(windows[-1][1], window[1]))
            else:
                windows.append(window)
    return windows


def _detection(result: RecognizerResult, offset: int) -> Detection:
    """A Presidio result as a Detection, shifted by ``offset``."""
    metadata = result.recognition_metadata or {}
    explanation = result.analysis_explanation
    return Detection(result.entity_type, result.start + offset, result.end + offset, float(result.score),
                     metadata.get(RecognizerResult.RECOGNIZER_NAME_KEY, "presidio"),
                     (explanation.textual_explanation or "") if explanation else "")


def _pieces(text: str) -> list[tuple[int, str]]:
    """``text`` cut in pieces of at most MAX_PIECE characters, at a line break or space where possible."""
    pieces = []
    start = 0
    while len(text) - start > MAX_PIECE:
        end = start + MAX_PIECE
        cut = text.rfind("\n", start + MAX_PIECE // 2, end)
        if cut < 0:
            cut = text.rfind(". ", start + MAX_PIECE // 2, end)
        if cut < 0:
            cut = text.rfind(" ", start + MAX_PIECE // 2, end)
        cut = cut + 1 if cut > start else end
        pieces.append((start, text[start:cut]))
        start = cut
    pieces.append((start, text[start:]))
    return pieces
