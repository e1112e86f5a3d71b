"""What a question asks for (a number, a duration, a date, a role, yes or no) and whether it refers back to the
previous question (a follow-up), both from its words alone: no model call, a few microseconds.
"""

from __future__ import annotations

import re

# What a unit must contain to answer each kind of question.
WANTS = {
    "duration": re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:werk)?(?:dag|dagen|week|weken|maand|maanden|jaar|jaren|uur|uren|"
                           r"minuut|minuten|seconden|kwartaal|days?|weeks?|months?|years?|hours?|minutes?)\b"
                           r"|\b(?:een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|twaalf)\s+(?:werk)?"
                           r"(?:dag|dagen|week|weken|maand|maanden|jaar|jaren|uur)\b", re.IGNORECASE),
    "number": re.compile(r"\d|\b(?:één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|twintig|"
                         r"honderd|duizend|one|two|three|four|five|six|ten|twelve)\b", re.IGNORECASE),
    "date": re.compile(r"\b(?:\d{1,2}\s+(?:januari|februari|maart|april|mei|juni|juli|augustus|september|"
                       r"oktober|november|december)|(?:19|20)\d\d|maandag|dinsdag|woensdag|donderdag|vrijdag|"
                       r"zaterdag|zondag|jaarlijks|uiterlijk|vóór|binnen|kwartaal|januari|februari|maart|april|mei|juni|juli|"
                       r"augustus|september|oktober|november|december)\b|\b\d{1,2}[.:]\d{2}\b|\b\d{1,2}\s*uur\b", re.IGNORECASE),
    "role": re.compile(r"\b(?:afdeling\w*|\w*(?:hoofd|beheerder|functionaris|officer|coördinator|coordinator|"
                       r"adviseur|medewerker|ambtenaar|raad|college|commissie|burgemeester|wethouder\w*|"
                       r"directeur|directie|desk|team|secretaris|leidinggevende|eigenaar|verantwoordelijke|"
                       r"toezichthouder|autoriteit|leverancier|aanbieder))\b", re.IGNORECASE),
    "acronym": re.compile(r"\b[A-Z]{2,6}\b"),  # CISO, FG, AP: roles are often named by their initials
    "yes_no": re.compile(r"\b(?:niet|geen|nooit|alleen|uitsluitend|mag|mogen|moet|moeten|verplicht|toegestaan|"
                         r"verboden|kan|kunnen|altijd|not|never|only|must|may|allowed)\b", re.IGNORECASE),
}
_KIND = (
    ("duration", re.compile(r"\b(?:hoe\s+lang|hoelang|hoeveel\s+(?:tijd|dagen|weken|maanden|jaar|jaren|uur|"
                            r"minuten|werkdagen)|binnen\s+welke\s+termijn|welke\s+termijn|bewaartermijn|"
                            r"how\s+long)\b", re.IGNORECASE)),
    ("date", re.compile(r"\b(?:wanneer|welke\s+datum|per\s+wanneer|vanaf\s+wanneer|tot\s+wanneer|welke\s+dag|"
                        r"hoe\s+laat|welk\s+tijdstip|welke\s+periode|when|what\s+time)\b", re.IGNORECASE)),
    ("number", re.compile(r"\b(?:hoeveel|hoe\s+vaak|hoe\s+hoog|hoe\s+groot|welk\s+bedrag|hoe\s+veel|how\s+many|"
                          r"how\s+much|how\s+often|kost|kosten|bedraagt|vergoeding\w*|bedrag|budget|tarief|"
                          r"prijs|percentage|minimale|maximale|minimum|maximum)\b", re.IGNORECASE)),
    ("role", re.compile(r"\b(?:wie|bij\s+wie|aan\s+wie|welke\s+(?:afdeling|functionaris|rol|persoon|instantie)|"
                        r"who)\b", re.IGNORECASE)),
    ("yes_no", re.compile(r"^(?:mag|mogen|moet|moeten|kan|kunnen|is|zijn|ben|heb|hebben|heeft|geldt|krijg|"
                          r"may|can|must|is|are|do|does)\b", re.IGNORECASE)),
)
# Words that point back at something said before.
_BACK = re.compile(r"\b(?:dat|dit|die|deze|daar\w*|hier(?:van|voor|over|mee|bij|in|aan|op|door|uit)|ervan|"
                   r"erover|ervoor|ermee|erbij|hij|zij|ze|hem|zo'n|zulke|that|this|these|those|it|they|"
                   r"them|there)\b", re.IGNORECASE)
_LEAD = re.compile(r"^(?:en|maar|of|ook|dus|and|but|or|also|what about|hoe zit het)\b", re.IGNORECASE)
_ELLIPSIS = re.compile(r"^(?:voor|bij|in|met|zonder|na|tijdens|for|with|without)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
_FUNCTION = frozenset(["de", "het", "een", "en", "of", "maar", "ook", "dus", "van", "voor", "over", "met", "bij", "in", "op", "aan", "door", "uit", "naar", "tot", "om", "te", "is", "zijn", "ben", "was", "wat", "wie", "hoe", "waar", "wanneer", "welke", "welk", "waarom", "mag", "mogen", "moet", "moeten", "kan", "kunnen", "wordt", "worden", "geldt", "gelden", "ik", "je", "jij", "u", "we", "wij", "ik", "mij", "me", "mijn", "jouw", "uw", "onze", "ons", "er", "dan", "nog", "wel", "niet", "geen", "al", "zo", "als", "dat", "dit", "die", "deze", "and", "or", "but", "the", "a", "an", "of", "for", "with", "to", "in", "on", "at", "is", "are", "can", "may", "must", "what", "who", "how", "when", "which", "does", "do", "also", "hoeveel", "lang", "vaak", "per", "dag", "dagen"])
FOLLOW_UP_MAX_WORDS = 4  # content words a question may have and still refer back


_ASKING = re.compile(r"\b(?:vanaf|tot|per)\s+(?=wanneer|hoe\s+laat|welke)|\bhoe\s+(?:lang|vaak|hoog|groot|veel|laat)\b|"
                     r"\b(?:hoelang|hoeveel|wanneer|welke|welk|wie|waar|waarom|wat|hoe|how\s+(?:long|many|much|often)|"
                     r"when|who|which|what|where|why)\b"
                     # the light verbs a question is framed with ("gaat", "blijft", "hoef ik"): not its topic
                     r"|\b(?:ga|gaat|gaan|blijf|blijft|blijven|hoef|hoeft|hoeven|geldt|gelden|krijg|krijgt|krijgen|"
                     r"mag|mogen|staat|staan)\b",
                     re.IGNORECASE)


# A question that opens by asking an amount ("Hoeveel...", "Binnen hoeveel werkdagen...", "Hoe hoog is..."): the
# evidence must state a number. Not "hoe vaak" (answered by "jaarlijks" as often as by "elke 3 jaar"), nor a
# "hoeveel" further on ("Hoe meten we hoeveel energie..." asks how, not how much).
_AMOUNT = re.compile(r"^\W*(?:[^\W\d_]+\s+)?(?:hoeveel|hoe\s+(?:hoog|veel|groot)|welk\s+bedrag|wat\s+kost\w*|"
                     r"how\s+(?:many|much))\b", re.IGNORECASE)


# "Hoeveel dagen...", "Binnen hoeveel werkdagen...": the word after "hoeveel" names what is counted, unless it is a
# verb ("Hoeveel kost...") or "tijd" (any duration answers "hoeveel tijd").
_COUNTED = re.compile(r"^\W*(?:[^\W\d_]+\s+)?hoeveel\s+([^\W\d_]+)", re.IGNORECASE)
_NOT_COUNTED = frozenset(["tijd", "kost", "kosten", "bedraagt", "bedragen", "mag", "mogen", "moet", "moeten", "krijg",
                          "krijgt", "krijgen", "heb", "hebt", "heeft", "hebben", "is", "zijn", "zit", "zitten", "duurt",
                          "wordt", "worden", "kan", "kunnen", "ben", "gaat", "gaan"])


# What the answer must be, beyond a number (`asks_amount`): a price asks a sum of money, a time of day a clock
# time, "hoe heet de ..." a name, "wie is de ..." a name or a role, "welke N" an N or something named. Not "hoe heet
# het wanneer..." (it asks a term), nor "welke dag/termijn/periode" (a date or duration: `question_kind`).
_PRICE = re.compile(r"\b(?:wat|hoeveel)\s+(?:kost|kosten|betaal|betaalt|betalen)\b|\bhoe\s+duur\b|"
                    r"\b(?:prijs|prijzen|tarief|tarieven)\b|\bwat\s+zijn\s+de\s+kosten\b|\bhow\s+much\s+(?:is|does)\b",
                    re.IGNORECASE)
_CLOCK = re.compile(r"\bhoe\s+laat\b|\bopenings(?:tijd|tijden|uren)\b|\bwanneer\s+(?:\w+\s+){0,4}?(?:open|geopend|"
                    r"dicht|gesloten)\b|\bwelk\s+tijdstip\b|\bwhat\s+time\b|\bopening\s+hours\b", re.IGNORECASE)
_NAME = re.compile(r"^\W*(?:hoe\s+heet|hoe\s+heten|wat\s+is\s+de\s+naam\s+van|wie\s+is|wie\s+zijn)\s+"
                   r"(?:de|het|onze|ons|mijn)\s+(?!(?:wanneer|als|dat|dit)\b)([^\W\d_]+)", re.IGNORECASE)
_WHICH = re.compile(r"^\W*(?:[^\W\d_]+\s+)?(?:welke|welk)\s+([^\W\d_]+)", re.IGNORECASE)
_WHICH_TIME = frozenset(["dag", "dagen", "datum", "data", "jaar", "jaren", "maand", "week", "periode", "termijn",
                         "tijd", "tijdstip", "moment", "uur", "leeftijd"])


def asked_form(question: str) -> tuple[str, str | None] | None:
    """What form the answer to ``question`` must take, beyond a number: ("price", None) for "wat kost...",
    ("clock", None) for "hoe laat...", ("name", subject) for "hoe heet de gemeentearchivaris...", ("person",
    subject) for "wie is de...", ("which", noun) for "welke cursussen..."; None when any text on the topic may
    answer."""
    if _PRICE.search(question):
        return "price", None
    if _CLOCK.search(question):
        return "clock", None
    name = _NAME.search(question)
    if name:
        return ("name" if re.match(r"^\W*(?:hoe|wat)", question, re.IGNORECASE) else "person"), name.group(1).lower()
    which = _WHICH.search(question)
    if which and which.group(1).lower() not in _WHICH_TIME:
        return "which", which.group(1).lower()
    return None


def counted(question: str) -> str | None:
    """What a "hoeveel" question counts ("Hoeveel vakantiedagen..." -> "vakantiedagen"), or None."""
    match = _COUNTED.search(question)
    word = match.group(1).lower() if match else None
    return None if word is None or word in _NOT_COUNTED else word


def asks_amount(question: str) -> bool:
    """True when ``question`` opens by asking an amount or a count ("Hoeveel...", "Na hoeveel jaar...", "Hoe
    hoog is..."), so that only a text stating a number can answer it."""
    return bool(_AMOUNT.search(question))


def without_question_words(question: str) -> str:
    """The question without the words that ask ("hoe lang", "hoeveel", "wie"): they are not its topic."""
    return _ASKING.sub(" ", question)


def question_kind(question: str) -> str | None:
    """What the question asks for: duration, date, number, role, yes_no, or None (an open question)."""
    for kind, pattern in _KIND:
        if pattern.search(question.strip()):
            return kind
    return None


def content_words(text: str) -> list[str]:
    """The words of ``text`` that carry its topic (function words and question words left out)."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in _FUNCTION]


def is_follow_up(question: str, previous: str | None) -> bool:
    """True when ``question`` only makes sense with ``previous``: it starts as a continuation ("en voor
    deeltijd?") or points back ("geldt dat ook…", "wie beslist daarover?") and names little of its own."""
    if not previous:
        return False
    words = content_words(question)
    if _LEAD.search(question.strip()) and len(words) <= 2 * FOLLOW_UP_MAX_WORDS:
        return True  # "En binnen welke termijn moet de Autoriteit Persoonsgegevens het dan weten?"
    if len(words) > FOLLOW_UP_MAX_WORDS:
        return False
    short = len(_WORD.findall(question)) <= 3
    return bool(_BACK.search(question)) or (short and bool(_ELLIPSIS.search(question.strip())))


def standalone_query(question: str, previous: str) -> str:
    """A question that can be retrieved on its own: the follow-up with the previous question's topic words."""
    own = set(content_words(question))
    topic = [w for w in dict.fromkeys(content_words(previous)) if w not in own]
    return f"{question} ({' '.join(topic)})" if topic else question
