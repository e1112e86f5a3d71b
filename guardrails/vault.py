"""The per-conversation vault: placeholder <-> value. It lives in server memory only and never prints values."""

from __future__ import annotations

import re
import threading
from typing import NoReturn

from guardrails.lexicon import TITLES

_COMPACT = re.compile(r"[\s.\-()/]+")
_IDENTIFIERS = frozenset({"BSN", "IBAN", "TELEFOON", "POSTCODE", "KENTEKEN", "PASPOORT", "KVK", "CREDITCARD", "IP"})


def _key(kind: str, value: str) -> str:
    """The form under which two spellings of one value get one placeholder ("111 222 333" = "111222333";
    "dhr. Jan de Vries" = "jan de vries")."""
    if kind in _IDENTIFIERS:
        return _COMPACT.sub("", value).upper()
    words = value.casefold().split()
    if kind == "PERSOON":
        if words[:2] == ["de", "heer"]:
            words = words[2:]
        while len(words) > 1 and (words[0] in TITLES or words[0] + "." in TITLES):
            words = words[1:]
    return " ".join(words)


class Vault:
    """Placeholders of one conversation, numbered per type; the same value always gets the same placeholder."""

    __slots__ = ("_by_key", "_counts", "_lock", "_values")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], str] = {}
        self._values: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def placeholder(self, kind: str, value: str) -> str:
        """The placeholder of ``value`` (of type ``kind``), made on first sight, e.g. "[BSN_1]"."""
        key = (kind, _key(kind, value))
        with self._lock:
            existing = self._by_key.get(key)
            if existing is not None:
                return existing
            number = self._counts.get(kind, 0) + 1
            self._counts[kind] = number
            placeholder = f"[{kind}_{number}]"
            self._by_key[key] = placeholder
            self._values[placeholder] = value
            return placeholder

    def value(self, placeholder: str) -> str | None:
        """The value behind a placeholder written exactly as "[TYPE_N]", or None."""
        with self._lock:
            return self._values.get(placeholder)

    def values(self, kind: str) -> list[str]:
        """The values of one type, in the order first seen (in memory only: for finding later mentions)."""
        with self._lock:
            return [v for p, v in self._values.items() if p.startswith(f"[{kind}_")]

    def types(self) -> tuple[str, ...]:
        """The types that have at least one placeholder."""
        with self._lock:
            return tuple(self._counts)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, placeholder: object) -> bool:
        return placeholder in self._values

    def __repr__(self) -> str:
        return f"<Vault with {len(self._values)} placeholders>"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Vault holds personal data and is never pickled or copied out of memory")

    def __deepcopy__(self, memo: object) -> NoReturn:
        raise TypeError("a Vault holds personal data and is never copied")
