"""The one adapter of Presidio (and spaCy): our detectors as Presidio recognizers, plus spaCy's English NER."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import spacy  # noqa: E402
from presidio_analyzer import (  # noqa: E402
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine  # noqa: E402
from presidio_analyzer.predefined_recognizers import SpacyRecognizer  # noqa: E402

from guardrails.detection import Detection, Detector  # noqa: E402

logger = logging.getLogger(__name__)

ENGLISH_NER = "EnglishNerRecognizer"
# spaCy's pipeline limit is one million characters; longer texts are analysed in pieces.
MAX_PIECE = 100_000


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
            explanation = AnalysisExplanation(recognizer=self.name, original_score=found.score,
                                              textual_explanation=found.explanation)
            results.append(RecognizerResult(
                found.type, found.start, found.end, found.score, analysis_explanation=explanation,
                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: found.recognizer,
                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return results


class PresidioEngine:
    """Presidio's AnalyzerEngine with Baken's recognizers: 'nl' runs every detector on a blank Dutch pipeline,
    'en' runs spaCy's English NER for person names."""

    def __init__(self, detectors: Sequence[Detector], english_model: Path | None, threshold: float) -> None:
        self.threshold = threshold
        pipelines: dict[str, spacy.language.Language] = {"nl": spacy.blank("nl")}
        registry = RecognizerRegistry(supported_languages=["nl", "en"] if english_model else ["nl"])
        for detector in detectors:
            registry.add_recognizer(DetectorRecognizer(detector, "nl"))
        if english_model is not None:
            pipelines["en"] = spacy.load(english_model, exclude=["parser", "tagger", "attribute_ruler",
                                                                 "lemmatizer", "senter"])
            registry.add_recognizer(SpacyRecognizer(supported_language="en", supported_entities=["PERSOON"],
                                                    name=ENGLISH_NER))
        ner = NerModelConfiguration(model_to_presidio_entity_mapping={"PERSON": "PERSOON"},
                                    labels_to_ignore=["CARDINAL", "ORDINAL", "DATE", "TIME", "MONEY", "PERCENT",
                                                      "QUANTITY", "GPE", "LOC", "ORG", "NORP", "FAC", "EVENT",
                                                      "PRODUCT", "LAW", "LANGUAGE", "WORK_OF_ART"])
        nlp_engine = SpacyNlpEngine(models=[{"lang_code": code, "model_name": code} for code in pipelines],
                                    ner_model_configuration=ner)
        nlp_engine.nlp = pipelines  # loaded here, so Presidio never tries to download a model
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine,
                                       supported_languages=list(pipelines), default_score_threshold=threshold)
        self.languages = tuple(pipelines)

    def analyze_raw(self, text: str, language: str) -> list[RecognizerResult]:
        """Presidio's own ``analyze`` on one text in one language, with the decision process."""
        return self.analyzer.analyze(text=text, language=language, score_threshold=self.threshold,
                                     return_decision_process=True)

    def analyze(self, text: str, english: bool) -> list[Detection]:
        """Findings in ``text`` (Dutch detectors always, English NER when asked), split in pieces if long."""
        found: list[Detection] = []
        for offset, piece in _pieces(text):
            languages = ["nl"] + (["en"] if english and "en" in self.languages else [])
            for language in languages:
                for result in self.analyze_raw(piece, language):
                    explanation = result.analysis_explanation
                    found.append(Detection(
                        result.entity_type, result.start + offset, result.end + offset, float(result.score),
                        result.recognition_metadata.get(RecognizerResult.RECOGNIZER_NAME_KEY, "presidio")
                        if result.recognition_metadata else "presidio",
                        explanation.textual_explanation or "" if explanation else ""))
        return found


def _pieces(text: str) -> list[tuple[int, str]]:
    """``text`` cut in pieces of at most MAX_PIECE characters, at a line break or space where possible."""
    pieces = []
    start = 0
    while len(text) - start > MAX_PIECE:
        end = start + MAX_PIECE
        cut = max(text.rfind("\n", start + MAX_PIECE // 2, end), text.rfind(" ", end - 2000, end))
        cut = cut + 1 if cut > start else end
        pieces.append((start, text[start:cut]))
        start = cut
    pieces.append((start, text[start:]))
    return pieces
