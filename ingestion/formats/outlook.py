"""Outlook messages (MSG) read with olefile (BSD): the MAPI properties Baken needs, read from the Compound
File's streams ([MS-OXMSG]), then the same headers, body and attachments as an EML (`ingestion.formats.mail`).

Read: subject, sender, recipients, the submit (else delivery) time, the plain-text body (else the HTML
body), and attachments stored by value with their long (else short) file name. An attached Outlook message
(an embedded storage) and an RTF-only body are not read; both are noted.
"""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime, timedelta

from core.errors import DocumentError
from ingestion.document import ParsedDocument
from ingestion.formats.limits import FormatLimits
from ingestion.formats.mail import Budget, Message, ParseAttachment, message_document

STRING, STRING8, BINARY, SYSTIME = "001F", "001E", "0102", 0x0040
SUBJECT, SENDER_NAME, SENDER_SMTP, SENDER_EMAIL, TO, CC = "0037", "0C1A", "5D01", "0C1F", "0E04", "0E03"
BODY, HTML = "1000", "1013"
ATTACH_DATA, ATTACH_LONG_NAME, ATTACH_NAME = "3701", "3707", "3704"
SENT_TIMES = (0x0039, 0x0E06)  # PR_CLIENT_SUBMIT_TIME, PR_MESSAGE_DELIVERY_TIME
PROPERTIES = "__properties_version1.0"
TOP_HEADER = 32  # bytes before the property entries of the message's own property stream
EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


def parse_msg(data: bytes, name: str, title: str, limits: FormatLimits, parse_attachment: ParseAttachment,
              depth: int = 0, budget: Budget | None = None) -> ParsedDocument:
    """An Outlook message's headers, body and readable attachments."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            reader = _Properties(ole)
            subject = " ".join(reader.text(SUBJECT).split()) or title
            sender = reader.text(SENDER_NAME)
            address = reader.text(SENDER_SMTP) or reader.text(SENDER_EMAIL)
            if address and address != sender:
                sender = f"{sender} <{address}>" if sender else address
            sent = reader.time()
            headers = [(label, value) for label, value in (
                ("Onderwerp", subject), ("Van", sender), ("Aan", reader.text(TO)), ("Cc", reader.text(CC)),
                ("Datum", f"{sent:%Y-%m-%d %H:%M}" if sent else "")) if value]
            body, html = reader.text(BODY), False
            if not body.strip() and reader.exists(f"__substg1.0_{HTML}{BINARY}"):
                body, html = reader.binary(HTML).decode("utf-8", "replace"), True
            attachments, skipped = reader.attachments()
    except (OSError, ValueError, struct.error, IndexError, KeyError, TypeError) as exc:
        raise DocumentError(f"beschadigd Outlook-bericht (MSG, {type(exc).__name__})") from None
    if skipped:
        body = (body + "\n\n" if body.strip() else "") + "\n".join(skipped)
    return message_document(Message(subject, headers, sent, body, html, attachments), "msg", limits,
                            parse_attachment, depth, budget)


class _Properties:
    """The MAPI properties of the message (or of one of its attachments, under ``root``)."""

    def __init__(self, ole: object, root: str = "") -> None:
        self._ole = ole
        self._root = root

    def exists(self, stream: str) -> bool:
        return bool(self._ole.exists(self._root + stream))  # type: ignore[attr-defined]

    def binary(self, tag: str) -> bytes:
        path = f"{self._root}__substg1.0_{tag}{BINARY}"
        return self._ole.openstream(path).read() if self._ole.exists(path) else b""  # type: ignore[attr-defined]

    def text(self, tag: str) -> str:
        """A string property, Unicode (PT_UNICODE) or 8-bit (PT_STRING8, read as Windows-1252)."""
        for kind, encoding in ((STRING, "utf-16-le"), (STRING8, "cp1252")):
            path = f"{self._root}__substg1.0_{tag}{kind}"
            if self._ole.exists(path):  # type: ignore[attr-defined]
                return self._ole.openstream(path).read().decode(encoding, "replace").rstrip("\x00")  # type: ignore[attr-defined]
        return ""

    def time(self) -> datetime | None:
        """The submit (else delivery) time, from the fixed-size properties stream."""
        path = self._root + PROPERTIES
        if not self._ole.exists(path):  # type: ignore[attr-defined]
            return None
        stream = self._ole.openstream(path).read()  # type: ignore[attr-defined]
        found: dict[int, int] = {}
        for offset in range(TOP_HEADER, len(stream) - 15, 16):
            tag, _, value = struct.unpack_from("<IIQ", stream, offset)
            if tag & 0xFFFF == SYSTIME:
                found[tag >> 16] = value
        ticks = next((found[p] for p in SENT_TIMES if found.get(p)), None)
        return EPOCH + timedelta(microseconds=ticks // 10) if ticks else None  # UTC

    def attachments(self) -> tuple[list[tuple[str, bytes]], list[str]]:
        """Attachments stored by value, as (name, bytes); notes for those that are not."""
        found, skipped = [], []
        storages = sorted({entry[0] for entry in self._ole.listdir(streams=True, storages=True)  # type: ignore[attr-defined]
                           if entry and entry[0].startswith("__attach_version1.0_")})
        for storage in storages:
            attachment = _Properties(self._ole, storage + "/")
            name = " ".join((attachment.text(ATTACH_LONG_NAME) or attachment.text(ATTACH_NAME)).split())[:200]
            if attachment.exists(f"__substg1.0_{ATTACH_DATA}{BINARY}"):
                found.append((name or "bijlage", attachment.binary(ATTACH_DATA)))
            else:
                skipped.append(f"Bijlage {name or storage}: niet gelezen (een ingesloten Outlook-bericht of een"
                               " koppeling)")
        return found, skipped


def preload() -> None:
    """Import olefile now (the sandbox worker does so before its memory limit is set)."""
    import olefile  # noqa: F401
