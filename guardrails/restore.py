"""Placeholders back to values, for the asker only: tolerant of the model's spelling, and for streams."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from guardrails.vault import Vault

_OPEN = "[({<"
_CLOSE = "])}>"


def _pattern(types: Iterable[str]) -> re.Pattern[str] | None:
    """A regex matching "[BSN_1]", "BSN_1", "[bsn_1", "( BSN_1 )", "BSN-1", "[BSN 1]" for the given types."""
    names = sorted(types, key=len, reverse=True)
    if not names:
        return None
    alternation = "|".join(re.escape(name) for name in names)
    return re.compile(
        r"(?P<open>[\[({<][ \t]*)?(?<![A-Za-z0-9_])(?P<type>" + alternation + r")"
        r"[ \t]*[_\-]?[ \t]*(?P<number>\d+)(?!\d)"
        r"(?(open)(?:[ \t]*[\])}>]|(?![A-Za-z0-9_]))|(?![A-Za-z0-9_]))",
        re.IGNORECASE,
    )


def restore(text: str, vault: Vault) -> str:
    """``text`` with every placeholder of ``vault`` replaced by its value; unknown placeholders stay."""
    pattern = _pattern(vault.types())
    if pattern is None or not text:
        return text

    def value(match: re.Match[str]) -> str:
        found = vault.value(f"[{match.group('type').upper()}_{int(match.group('number'))}]")
        return found if found is not None else match.group(0)

    return pattern.sub(value, text)


def _pending_from(buffer: str, types: tuple[str, ...]) -> int:
    """Where a placeholder that the next tokens could still complete begins in ``buffer`` (or len(buffer))."""
    longest = max((len(t) for t in types), default=0) + 16
    for start in range(max(0, len(buffer) - longest), len(buffer)):
        ch = buffer[start]
        starts = ch in _OPEN or (ch.isalpha() and (start == 0 or not buffer[start - 1].isalnum()))
        if starts and _could_continue(buffer[start:], types):
            return start
    return len(buffer)


def _could_continue(tail: str, types: tuple[str, ...]) -> bool:
    """True when ``tail`` is an unfinished placeholder, or a finished one that more digits or a bracket extend."""
    opened = tail[0] in _OPEN
    rest = tail[1:].lstrip(" \t") if opened else tail
    upper = rest.upper()
    for kind in types:
        if kind.startswith(upper):
            return True
        if upper.startswith(kind):
            after = rest[len(kind):]
            if re.fullmatch(r"[ \t]*[_\-]?[ \t]*\d*[ \t]*", after):
                return True
    return False


def restore_stream(tokens: Iterable[str], vault: Vault) -> Iterator[str]:
    """Restore streamed tokens, holding back only the tail that may be the start of a placeholder."""
    types = tuple(t.upper() for t in vault.types())
    if not types:
        yield from tokens
        return
    buffer = ""
    for token in tokens:
        buffer += token
        cut = _pending_from(buffer, types)
        if cut:
            ready, buffer = buffer[:cut], buffer[cut:]
            yield restore(ready, vault)
    if buffer:
        yield restore(buffer, vault)
