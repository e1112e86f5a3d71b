"""E-mail (EML, RFC 5322) with the standard library: the headers (subject, sender, recipients, date) lead the
message and head its sections, the body is the plain-text part (else the HTML part, through the HTML parser),
and attachments of a readable format are parsed as part of the message, each under "Bijlage: name".

Bounded: attachments larger than ``max_attachment_mb`` are named but not read, at most ``max_attachments``
are read per message (nested ones included), and a message inside a message inside … stops at
``max_mail_depth`` (an e-mail loop of attachments in attachments).
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import cast

from core.errors import DocumentError
from ingestion.document import ParsedDocument, Section
from ingestion.formats.limits import FormatLimits

# (bytes, name, depth) -> the parsed attachment; DocumentError when it cannot be read.
ParseAttachment = Callable[[bytes, str, int], ParsedDocument]
HEADERS = (("subject", "Onderwerp"), ("from", "Van"), ("to", "Aan"), ("cc", "Cc"), ("date", "Datum"))


@dataclass
class Budget:
    """Attachments still to be read for one file, nested messages included."""

    left: int


def looks_like_mail(data: bytes) -> bool:
    """Whether the first lines are RFC 5322 headers (a From: or Received: among them)."""
    head = data[:4096].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].lower()
    names = {line.split(b":", 1)[0] for line in head.split(b"\n") if b":" in line and not line[:1].isspace()}
    return bool(names & {b"from", b"received", b"message-id"}) and bool(names & {b"subject", b"date", b"to"})


def parse_eml(data: bytes, name: str, title: str, limits: FormatLimits, parse_attachment: ParseAttachment,
              depth: int = 0, budget: Budget | None = None) -> ParsedDocument:
    """An e-mail's headers, body and readable attachments; ``budget`` counts attachments left to read."""
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
        if not isinstance(message, EmailMessage):
            raise TypeError(type(message).__name__)
        subject = " ".join(str(message.get("subject", "")).split()) or title
        headers = [(label, str(message[key])) for key, label in HEADERS if message.get(key)]
        try:
            sent = parsedate_to_datetime(str(message["date"])) if message["date"] else None
        except (TypeError, ValueError):
            sent = None
        body = message.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body is not None else ""
        html = body is not None and body.get_content_subtype() == "html"
        attachments = [_part(part) for part in message.iter_attachments()]
    except (LookupError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise DocumentError(f"beschadigd e-mailbericht ({type(exc).__name__})") from None
    return message_document(Message(subject, headers, sent, text, html, attachments), "eml", limits,
                            parse_attachment, depth, budget)


@dataclass
class Message:
    """What Baken reads of an e-mail, whatever its format (EML here, MSG in `ingestion.formats.outlook`)."""

    subject: str
    headers: list[tuple[str, str]]  # (Dutch label, value), in the order shown
    sent: datetime | None
    body: str
    body_is_html: bool
    attachments: list[tuple[str, bytes]]  # (name, bytes); a forwarded message as name.eml (or .msg)


def message_document(message: Message, kind: str, limits: FormatLimits, parse_attachment: ParseAttachment,
                     depth: int = 0, budget: Budget | None = None) -> ParsedDocument:
    """The sections of a message: headers, body, then each readable attachment under "Bijlage: name"."""
    budget = budget or Budget(limits.max_attachments)
    heading = f"{message.subject} ({message.sent:%Y-%m-%d %H:%M})" if message.sent else message.subject
    lines = [f"{label}: {' '.join(value.split())}" for label, value in message.headers]
    sections = [Section(text="\n".join(lines), heading=(heading,))] if lines else []
    if message.body_is_html and message.body.strip():
        document = parse_attachment(message.body.encode("utf-8"), "bericht.html", depth + 1)
        sections += [replace(s, heading=(heading, *s.heading)) for s in document.sections]
    elif message.body.strip():
        sections.append(Section(text=message.body.strip(), heading=(heading,)))
    notes: list[str] = []
    for name, data in message.attachments:
        sections += _attachment(name, data, heading, limits, parse_attachment, depth, budget, notes)
    if notes:
        sections.append(Section(text="\n".join(notes), heading=(heading, "Bijlagen niet gelezen")))
    return ParsedDocument(title=message.subject, kind=kind, sections=sections)


def _part(part: EmailMessage) -> tuple[str, bytes]:
    """An attachment's name and bytes; a forwarded message (message/rfc822) as name.eml."""
    name = " ".join((part.get_filename() or "").split())[:200] or f"bijlage.{part.get_content_subtype()}"
    if part.get_content_type() == "message/rfc822":
        # The payload of a multipart part is its list of messages; get_payload's type also admits str.
        inner = cast("EmailMessage | None", part.get_payload(0) if part.is_multipart() else None)
        data = inner.as_bytes() if inner is not None else b""
        return (name if name.lower().endswith(".eml") else name + ".eml"), data
    return name, cast("bytes | None", part.get_payload(decode=True)) or b""  # decode=True: bytes or None


def _attachment(name: str, data: bytes, heading: str, limits: FormatLimits, parse_attachment: ParseAttachment,
                depth: int, budget: Budget, notes: list[str]) -> list[Section]:
    """A readable attachment's sections under "Bijlage: name"; a note for one that is not read."""
    label = f"Bijlage: {name}"
    if depth + 1 > limits.max_mail_depth:
        notes.append(f"{name}: niet gelezen, berichten zijn meer dan {limits.max_mail_depth} keer in elkaar genest")
        return []
    if len(data) > limits.max_attachment_bytes:
        notes.append(f"{name}: niet gelezen, groter dan {limits.max_attachment_mb} MB")
        return []
    if budget.left <= 0:
        notes.append(f"{name}: niet gelezen, meer dan {limits.max_attachments} bijlagen")
        return []
    budget.left -= 1
    try:
        document = parse_attachment(data, name, depth + 1)
    except DocumentError as exc:
        notes.append(f"{name}: niet gelezen, {exc}")
        return []
    return [replace(s, heading=(heading, label, *s.heading)) for s in document.sections]
