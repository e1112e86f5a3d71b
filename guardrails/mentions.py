"""Later mentions of a person by surname alone: "ik sprak met jan bakker. bakker wil ..." and, in a later
turn, "wat zei de vries?". Each gets the placeholder of the full name it refers to."""

from __future__ import annotations

import re

from guardrails.detection import Detection, words
from guardrails.lexicon import FUNCTION_WORDS, NOT_NAME, TITLES, lexicon

MENTION = "SurnameMentionRecognizer"
_TUSSEN = words("van von de der den het ter ten te 't ’t la le du da di del dos el al bin ibn")


def surnames(name: str, strict: bool) -> list[str]:
    """The ways ``name`` may be referred to by surname: "jan de vries" -> "de vries", "vries"; "dhr. jansen" ->
    "jansen". ``strict`` (documents) leaves out surnames that are everyday words ("bakker")."""
    words = name.split()
    lists = lexicon()
    titled = [w.lower() for w in words[:2]] == ["de", "heer"]
    if titled:
        words = words[2:]
    while words and (words[0].lower() in TITLES or words[0].lower() + "." in TITLES or "." in words[0]):
        words = words[1:]  # titles and initials
        titled = True
    if len(words) > 1 and words[0].lower() not in _TUSSEN and lists.is_first_name(words[0].lower()):
        words = words[1:]  # the first name
    elif not titled:
        return []  # only a name whose shape is clear (a title, initials or a listed first name) has a surname
    if not words:
        return []
    found = [" ".join(words)]
    if len(words) > 1:
        found.append(words[-1])
    return [s for s in found if len(s) > 3 and s.lower() not in FUNCTION_WORDS and s.lower() not in NOT_NAME
            and s.lower() not in _TUSSEN and not (strict and lists.is_everyday(s.lower()))]


def aliases(names: list[str], strict: bool) -> dict[str, str]:
    """Each surname (lower case, single-spaced) of ``names``, with the first name it belongs to."""
    refers: dict[str, str] = {}
    for name in names:
        for surname in surnames(name, strict):
            refers.setdefault(alias_key(surname), name)
    return refers


def alias_key(value: str) -> str:
    """The form under which a mention is looked up among the aliases."""
    return " ".join(value.lower().split())


def later_mentions(text: str, refers: dict[str, str]) -> list[Detection]:
    """Every mention in ``text`` of one of the surnames in ``refers``."""
    if not refers:
        return []
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(r"\s+".join(map(re.escape, s.split()))
                                                  for s in sorted(refers, key=len, reverse=True)) + r")(?!\w)",
                         re.IGNORECASE)
    return [Detection("PERSOON", m.start(), m.end(), 0.6, MENTION, "surname of a person named before")
            for m in pattern.finditer(text)]
