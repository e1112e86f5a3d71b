"""Text files in any common encoding: a byte-order mark, then UTF-8, then UTF-16 without a mark, then the
Western single-byte code pages (Windows-1252 first), detected with charset-normalizer.

charset-normalizer left to itself picks Central-European code pages for Dutch text ("geïnd" read as cp1250
gives "geďnd"), so it only chooses among the encodings a Dutch office produces.
"""

from __future__ import annotations

import codecs

from core.errors import DocumentError, UnsupportedDocument

BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
WIDE = ["utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be"]
SINGLE_BYTE = ["cp1252", "iso8859_15", "latin_1"]
CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r", "\f"}
MAX_CONTROL_SHARE = 0.01  # more control characters than this is binary content, whatever the encoding


def decode(data: bytes) -> str:
    """The text of ``data``; UnsupportedDocument when it is binary, DocumentError when no encoding fits."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _checked(_strict(data, encoding, "de bytevolgordemarkering klopt niet met de inhoud"))
    try:
        return _checked(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if _cut_off(data, utf8_error):
        return _checked(data[:utf8_error.start].decode("utf-8"))
    if b"\x00" in data[:8192]:
        return _checked(_detected(data, WIDE, "binaire inhoud in een tekstbestand", unsupported=True))
    return _checked(_detected(data, SINGLE_BYTE, f"onbekende tekencodering (byte {utf8_error.start});"
                                                 " sla het bestand op als UTF-8"))


def _cut_off(data: bytes, error: UnicodeDecodeError) -> bool:
    """UTF-8 cut off inside its last character: two or more bytes of it left, or other UTF-8 before it (one
    lone byte such as the é of "café" in Windows-1252 is read as Windows-1252)."""
    if error.reason != "unexpected end of data" or error.start < len(data) - 3:
        return False
    return len(data) - error.start >= 2 or any(byte >= 0x80 for byte in data[:error.start])


def _strict(data: bytes, encoding: str, reason: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise DocumentError(reason) from None


def _detected(data: bytes, encodings: list[str], reason: str, unsupported: bool = False) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=encodings, explain=False).best()
    if best is None:
        raise (UnsupportedDocument if unsupported else DocumentError)(reason)
    text = str(best)
    if _control_share(text) > MAX_CONTROL_SHARE:
        raise (UnsupportedDocument if unsupported else DocumentError)(reason)
    return text


def _checked(text: str) -> str:
    if _control_share(text) > MAX_CONTROL_SHARE:
        raise UnsupportedDocument("binaire inhoud in een tekstbestand")
    return text


def _control_share(text: str) -> float:
    sample = text[:65536]
    return sum(c in CONTROL for c in sample) / max(len(sample), 1)


def preload() -> None:
    """Import charset-normalizer now (the sandbox worker does so before its memory limit is set)."""
    import charset_normalizer  # noqa: F401
