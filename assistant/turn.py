"""One conversation turn, the single path every question takes:
redact -> retrieve -> select evidence -> log the question -> show the evidence -> generate -> check every
sentence -> restore -> cite -> log the turn.

The evidence (Baken's own choice of the source sentences that answer the question) is shown before any model
token. The model's answer is then checked sentence by sentence against the sources it was given
(`assistant.check`); what no source supports is not shown as fact. `BAKEN_ANSWER__MODE` chooses between the
evidence alone (extractive), the checked model text under it (generative), or the model text only when it
passes the check (auto).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from typing import Any

from assistant.check import CheckedSentence, Checker, present
from assistant.citations import ground
from assistant.evidence import Evidence, answer_signal, answers_question, select_evidence
from assistant.llm import LLM, GenerationParams, Message
from assistant.prompt import STOP, PromptSource, build_prompt
from assistant.questions import is_follow_up, standalone_query
from assistant.release import SentenceRelease
from assistant.seams import Journal, NoRedaction, NullJournal, Redaction, Redactor, recorded
from assistant.settings import TurnSettings
from assistant.terms import Terms
from assistant.values import (
    OUTCOMES,
    Actor,
    AnswerSentence,
    Clock,
    Conversation,
    EvidenceRef,
    Outcome,
    SourceRef,
    TurnResult,
)
from core.errors import UserError
from core.language import detect_language
from ingestion.index import Hit, Index
from ingestion.lexical import Tokenizer
from ingestion.source import Source

logger = logging.getLogger(__name__)
__all__ = [  # the seams and the turn's values live in assistant.seams and assistant.values; importable here too
    "MAX_QUESTION_CHARS", "NO_SOURCE", "OUTCOMES", "Actor", "AnswerSentence", "Assistant", "Conversation",
    "EvidenceRef", "Hit", "Journal", "NoRedaction", "NullJournal", "Outcome", "PromptSource", "Redaction",
    "Redactor", "Source", "SourceRef", "TurnResult",
]
MAX_QUESTION_CHARS = 4000
EVIDENCE_POOL = 8  # chunks evidence is chosen from; the model gets the top_k and those that hold evidence
NO_SOURCE = {
    "nl": "Ik heb in de documenten van de gemeente geen informatie gevonden die deze vraag beantwoordt. "
          "Probeer de vraag anders te formuleren of vraag het een collega.",
    "en": "I could not find information in the municipality's documents that answers this question. "
          "Try rephrasing it, or ask a colleague.",
}
WITHHELD = {
    "nl": "Het door AI geschreven antwoord is weggelaten, omdat de documenten het niet onderbouwen. "
          "Hierboven staan de passages uit de documenten die bij uw vraag horen.",
    "en": "The AI-written answer was withheld because the documents do not support it. "
          "The passages from the documents that match your question are shown above.",
}
NOT_SUPPORTED = {"nl": "(niet onderbouwd door de documenten)", "en": "(not supported by the documents)"}


class Assistant:
    """Answers questions from the index with the LLM, guarded by the redactor and recorded by the journal."""

    def __init__(self, index: Index, llm: LLM, redactor: Redactor, journal: Journal, settings: TurnSettings,
                 vault_factory: Callable[[], Any] = dict, redact_sources: bool = True) -> None:
        self.index = index
        self.llm = llm
        self._redactor = redactor
        self._journal = journal
        self._settings = settings
        self._vault_factory = vault_factory
        self._redact_sources = redact_sources
        self._terms = Terms(Tokenizer().stems, index.word_weights if index is not None else None)
        self._checker = Checker(self._terms, index.embedder.embed_passages if index is not None else None)
        self._words = Checker(self._terms)  # words only: a sentence released while the model still writes

    @property
    def redactor(self) -> Redactor:
        """The guardrail this assistant redacts with (for other text the user sends, such as feedback)."""
        return self._redactor

    @property
    def journal(self) -> Journal:
        """Where this assistant records its turns (for other turns that must land in the same log)."""
        return self._journal

    def new_conversation(self) -> Conversation:
        """A conversation with an empty history and vault."""
        return Conversation(id=str(uuid.uuid4()), vault=self._vault_factory())

    def resume(self, conversation_id: str, exchanges: Iterable[tuple[str, str]]) -> Conversation:
        """A conversation rebuilt from its earlier (question, answer) pairs as the user saw them.

        Each text is redacted again into a fresh vault, so the model sees the history with placeholders that
        are consistent within the conversation. Any process can do this from the stored history, so the
        model's memory of a conversation does not depend on which process answered before.
        """
        conversation = self.new_conversation()
        conversation.id = conversation_id
        for question, answer in exchanges:
            conversation.history += [
                {"role": "user", "content": self._redactor.redact(question, conversation.vault).text},
                {"role": "assistant", "content": self._redactor.redact(answer, conversation.vault).text}]
        return conversation

    def ask(self, question: str, conversation: Conversation | None = None, actor: Actor | None = None,
            on_token: Callable[[str], None] | None = None,
            on_evidence: Callable[[TurnResult], None] | None = None) -> TurnResult:
        """Run one turn. ``on_evidence`` is called once the evidence is selected and the question is on record,
        before the model starts (the result then holds sources and evidence); ``on_token`` receives the
        checked, restored answer text."""
        conversation = conversation or self.new_conversation()
        actor = actor or Actor("anonymous")
        question = " ".join(question.split()) if question else ""
        if not question:
            raise UserError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise UserError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        clock = Clock()
        llm_settings = self._settings.llm
        params = GenerationParams(llm_settings.max_tokens, llm_settings.temperature, llm_settings.seed,
                                  llm_settings.repeat_penalty, STOP)
        result = TurnResult(event_id=str(uuid.uuid4()), conversation_id=conversation.id, question=question,
                            redacted_question="", answer="", redacted_answer="", sources=[], outcome="error",
                            language=detect_language(question), model=self.llm.name,
                            model_sha256=self.llm.sha256, params=params, mode=self._settings.answer.mode)
        recorded(self._journal, result, actor, clock,
                 lambda: self._run(result, conversation, clock, actor, on_token, on_evidence))
        conversation.history += [{"role": "user", "content": result.redacted_question},
                                 {"role": "assistant", "content": result.redacted_answer}]
        if result.outcome == "no_source" and on_token:
            # Shown only now, after the turn record: this path writes no question record (the model is never
            # called), so nothing may reach the user before the turn record is safely written.
            on_token(result.answer)
        return result

    def _run(self, result: TurnResult, conversation: Conversation, clock: Clock, actor: Actor,
             on_token: Callable[[str], None] | None, on_evidence: Callable[[TurnResult], None] | None) -> None:
        vault = conversation.vault
        redaction = self._redactor.redact(result.question, vault)
        result.redacted_question, result.findings = redaction.text, list(redaction.findings)
        clock.lap("redact")
        previous = _last_question(conversation.history)
        result.follow_up = is_follow_up(result.redacted_question, previous)
        result.query = standalone_query(result.redacted_question, previous) \
            if result.follow_up and previous else result.redacted_question
        retrieval = self._settings.retrieval
        found = self.index.retrieve(result.query, max(retrieval.top_k, EVIDENCE_POOL), collections=actor.collections)
        clock.lap("retrieve")
        redacted = [self._source_text(h, vault) for h in found.hits]
        pool = [replace(h, n=n, text=text)  # numbered, with the text the model may see
                for n, (h, (text, _)) in enumerate(zip(found.hits, redacted), start=1)]
        clock.lap("redact_sources")
        evidence = select_evidence(result.query, [(s.n, s.text, f"{s.title}\n{s.heading}", h.cosine)
                                                  for s, h in zip(pool, found.hits)],
                                   self._terms, previous=previous if result.follow_up else None)
        clock.lap("evidence")
        # "topical": the veto on the three signals (`answers_question`): 1.0 when the evidence can answer at all.
        result.signals = {"cosine": round(found.cosine, 4), "coverage": found.coverage,
                          "evidence": answer_signal(evidence), "topical": float(answers_question(evidence))}
        if not found.hits or not result.signals["topical"] or not (
                found.relevant(*self.index.thresholds(retrieval.min_score)) or
                result.signals["evidence"] >= self._settings.answer.min_evidence):
            result.outcome = "no_source"  # `ask` shows the fixed answer once the turn record is written
            result.answer = result.redacted_answer = NO_SOURCE[result.language]
            return
        # The model is given the top_k chunks, and any further chunk of the pool that holds evidence.
        kept = sorted(set(range(1, min(retrieval.top_k, len(pool)) + 1)) | {e.n for e in evidence})
        number = {old: new for new, old in enumerate(kept, start=1)}
        prompt_sources = [replace(pool[old - 1], n=number[old]) for old in kept]
        hits = [found.hits[old - 1] for old in kept]
        for old in kept:
            result.source_findings += redacted[old - 1][1]
        evidence = [replace(e, n=number[e.n]) for e in evidence]
        result.sources = _given_sources(prompt_sources, hits, cited=())
        result.evidence = [self._shown(e, hits, vault) for e in evidence]
        if result.mode == "extractive":
            result.model_texts = [s.text for s in prompt_sources]
            self._journal.record_question(result, actor)
            clock.lap("record_question")
            self._show_evidence(result, clock, on_evidence)
            self._finish(result, [], vault, on_token)
            return
        budget = self.llm.n_ctx - result.params.max_tokens - 16
        history = conversation.history[-2:] if result.follow_up else []
        prompt = build_prompt(result.redacted_question, prompt_sources, history, result.language,
                              self.llm.count_tokens, budget)
        result.prompt_tokens = prompt.tokens
        result.model_texts = [s.text for s in prompt.sources]
        result.sources = _given_sources(prompt.sources, hits, cited=())
        clock.lap("prompt")
        # On record before the model sees the question or the user sees anything: if the turn record at the
        # end cannot be written, the log still holds the interaction. A failure here stops the turn.
        self._journal.record_question(result, actor)
        clock.lap("record_question")
        self._show_evidence(result, clock, on_evidence)
        sources = [(s.n, s.text, f"{s.title}\n{s.heading}") for s in prompt.sources]
        # Generative mode shows each sentence once it is checked (assistant.release); auto mode needs the whole.
        release = SentenceRelease(lambda text: self._words.check(text, sources)) \
            if result.mode == "generative" and on_token else None
        raw: list[str] = []
        sent = ""
        for piece in self.llm.stream(prompt.messages, result.params):
            if not raw:
                result.timings_ms["first_token"] = clock.total()
            raw.append(piece)
            if "\n" in piece and _repeats_a_line("".join(raw)):
                break  # small models loop; a repeated line ends the answer (and frees the model)
            if release is not None and on_token is not None:
                for checked_sentence in release.feed(piece):
                    shown = self._restore(checked_sentence.shown(), vault)
                    on_token(f" {shown}" if sent else shown)
                    sent += f" {shown}" if sent else shown
                    # On record as shown so far, should the model fail before the end.
                    result.answer = sent
                    result.redacted_answer = " ".join(c.shown() for c in release.released)
        clock.lap("generate")
        result.completion_tokens = len(raw)
        generated = "".join(raw)
        if "\n" in generated and _repeats_a_line(generated):  # drop the unfinished line after the repeat
            generated = generated[:generated.rfind("\n")]
        result.generated = _without_repeated_lines(generated)
        result.invalid_citations = ground(result.generated, len(prompt.sources), result.language).invalid
        if release and release.released:  # the rest after what was shown, checked whole
            rest = self._checker.check(_without_repeated_lines(generated[release.start:]), sources)
            checked = release.released + [c for c in rest if not release.said(c.text)]
        else:
            checked = self._checker.check(result.generated, sources)
        clock.lap("check")
        self._finish(result, checked, vault, on_token, sent)

    @staticmethod
    def _show_evidence(result: TurnResult, clock: Clock, on_evidence: Callable[[TurnResult], None] | None) -> None:
        result.timings_ms["evidence_shown"] = clock.total()
        if on_evidence:
            on_evidence(result)

    def _finish(self, result: TurnResult, checked: list[CheckedSentence], vault: Any,
                on_token: Callable[[str], None] | None, sent: str = "") -> None:
        """The answer as shown: the checked sentences by mode, or the evidence alone; citations by Baken."""
        language = result.language if result.language in WITHHELD else "nl"
        statuses = present(result.mode, checked, self._settings.answer.min_supported)
        result.withheld = result.mode != "extractive" and not any(s in ("shown", "marked") for s in statuses)
        redacted_parts = []
        for c, status in zip(checked, statuses):
            if status == "shown":
                redacted_parts.append(c.shown())
            elif status == "marked":
                redacted_parts.append(f"{c.text} {NOT_SUPPORTED[language]}")
        if result.mode == "extractive":
            redacted = " ".join(f"“{e.redacted}” [{e.n}]" for e in result.evidence)
        elif result.withheld:
            redacted = WITHHELD[language]
        else:
            redacted = " ".join(redacted_parts)
        result.redacted_answer = redacted
        result.answer = self._restore(redacted, vault)
        result.sentences = [AnswerSentence(self._restore(c.text, vault), c, status)
                            for c, status in zip(checked, statuses)]
        cited = {e.n for e in result.evidence} | {c.source for c, st in zip(checked, statuses)
                                                  if st == "shown" and c.source is not None}
        result.supported = bool(cited)
        result.sources = [replace(s, cited=s.n in cited) for s in result.sources]
        result.outcome = "answered"
        if sent and not result.answer.startswith(sent):  # cannot happen: the released sentences lead the answer
            logger.warning("turn %s: the answer does not continue what was shown", result.event_id)
        elif on_token and result.answer[len(sent):]:
            on_token(result.answer[len(sent):])  # the rest, after the sentences shown as they were checked

    def _shown(self, evidence: Evidence, hits: list[Source], vault: Any) -> EvidenceRef:
        """Evidence as the user reads it, located in the source's own text for highlighting."""
        text = self._restore(evidence.text, vault)
        source = hits[evidence.n - 1].text
        start = source.find(text)
        return EvidenceRef(evidence.n, text, evidence.text, start, start + len(text) if start >= 0 else -1,
                           evidence.score, evidence.coverage)

    def _restore(self, text: str, vault: Any) -> str:
        return "".join(self._redactor.restore_stream(iter([text]), vault)) if text else text

    def _source_text(self, hit: Source, vault: Any) -> tuple[str, list[Any]]:
        """A chunk's text as the model may see it, and what was redacted from it."""
        if not self._redact_sources:
            return hit.text, []
        redaction = self._redactor.redact(hit.text, vault, kind="document")
        return redaction.text, list(redaction.findings)


def _last_question(history: list[Message]) -> str | None:
    """The previous (redacted) question of a conversation, if it has one."""
    return next((m["content"] for m in reversed(history) if m["role"] == "user"), None)


def _given_sources(given: Iterable[Source], hits: Iterable[Source], cited: Collection[int]) -> list[Source]:
    """The sources the prompt kept, numbered as the prompt has them, with their hits' own (unredacted) text,
    marked as cited or not."""
    return [replace(h, n=s.n, cited=s.n in cited) for s, h in zip(given, hits)]


def _repeats_a_line(text: str) -> bool:
    """True when the last finished line of ``text`` (of some length) already occurred earlier."""
    lines = [line.strip() for line in text.split("\n")[:-1]]
    return len(lines) > 1 and len(lines[-1]) >= 20 and lines[-1] in lines[:-1]


def _without_repeated_lines(text: str) -> str:
    """The text with every repeat of an earlier line (of some length) left out."""
    seen: set[str] = set()
    kept = []
    for line in text.strip().split("\n"):
        key = line.strip()
        if len(key) >= 20 and key in seen:
            continue
        seen.add(key)
        kept.append(line)
    return "\n".join(kept).strip()
