"""E-mail (EML): headers first, the body, attachments of readable formats under "Bijlage: name"; an e-mail
loop and a big attachment are bounded; Outlook MSG is refused with the workaround."""

from __future__ import annotations

import pytest

from core.errors import DocumentError
from ingestion.parsers import parse
from ingestion.sandbox import SandboxedParser
from tests.formats import files

HEADING = "Vergunning Dorpsstraat 4 (2026-03-03 10:15)"


def test_headers_body_and_attachments_are_one_document(sandbox: SandboxedParser) -> None:
    attachments = [("tarieven.csv", b"Zone;Prijs\nA;2 euro\n"),
                   ("besluit.odt", files.odt([[(1, "Besluit"), (0, "De vergunning wordt verleend.")]])),
                   ("foto.jpg", files.png())]
    document = sandbox.parse(files.eml("Vergunning Dorpsstraat 4", "Zie de bijlagen.", attachments), "mail.eml")
    assert (document.kind, document.title) == ("eml", "Vergunning Dorpsstraat 4")
    sections = [(s.heading, s.text) for s in document.sections]
    assert sections[0] == ((HEADING,), ("Onderwerp: Vergunning Dorpsstraat 4\nVan: Afdeling Vergunningen"
                           " <vergunningen@voorbeeld.nl>\nAan: raad@voorbeeld.nl\nDatum: Tue, 03 Mar 2026 10:15:00 +0100"))
    assert sections[1] == ((HEADING,), "Zie de bijlagen.")
    assert sections[2] == ((HEADING, "Bijlage: tarieven.csv", "tarieven", "rijen 1–2"), "Kolommen: Zone; Prijs\n\nZone: A; Prijs: 2 euro")
    assert sections[3] == ((HEADING, "Bijlage: besluit.odt", "Besluit"), "De vergunning wordt verleend.")
    assert sections[4][0] == (HEADING, "Bijlagen niet gelezen") and sections[4][1].startswith("foto.jpg: niet gelezen")


def test_html_only_mail_goes_through_the_html_parser() -> None:
    document = parse(files.eml("Nieuwsbrief", "Het <b>milieupark</b> is open.", html=True), "nieuws.eml")
    assert document.sections[-1].text == "Het milieupark is open."
    assert document.sections[-1].heading == ("Nieuwsbrief (2026-03-03 10:15)", "Nieuwsbrief")


def test_mail_is_recognised_without_its_suffix() -> None:
    assert parse(files.eml("Vraag", "Wanneer is het loket open?"), "bericht").kind == "eml"


def test_an_email_loop_stops_at_the_depth_limit(sandbox: SandboxedParser) -> None:
    document = sandbox.parse(files.mail_loop(30), "lus.eml")
    texts = [s.text for s in document.sections]
    assert "Laag 30." in texts and "Laag 27." in texts and "Laag 26." not in texts  # max_mail_depth 3
    assert any("meer dan 3 keer in elkaar genest" in t for t in texts)


def test_a_big_attachment_is_named_not_read(sandbox: SandboxedParser) -> None:
    big = ("Regel van de bijlage.\n" * 100_000).encode()  # 2.2 MB, over the 1 MB limit of the test sandbox
    document = sandbox.parse(files.eml("Groot", "Zie bijlage.", [("groot.txt", big)]), "groot.eml")
    assert document.sections[-1].text == "groot.txt: niet gelezen, groter dan 1 MB"
    assert sum(len(s.text) for s in document.sections) < 1000


def test_outlook_msg_has_the_same_headers_body_and_attachments(sandbox: SandboxedParser) -> None:
    data = files.msg("Vergunning Dorpsstraat 4", "Zie de bijlage.", [("tarieven.csv", b"Zone;Prijs\nA;2 euro\n"),
                                                                    ("groot.txt", b"x" * (2 * 1024 * 1024))],
                     embedded=True)
    document = sandbox.parse(data, "bericht.msg")
    heading = "Vergunning Dorpsstraat 4 (2026-03-03 09:15)"
    assert (document.kind, document.title) == ("msg", "Vergunning Dorpsstraat 4")
    assert [(s.heading, s.text) for s in document.sections] == [
        ((heading,), ("Onderwerp: Vergunning Dorpsstraat 4\nVan: Afdeling Vergunningen <vergunningen@voorbeeld.nl>"
                     "\nAan: Raad\nDatum: 2026-03-03 09:15")),
        ((heading,), ("Zie de bijlage.\n\nBijlage doorgestuurd.msg: niet gelezen (een ingesloten Outlook-bericht of"
                     " een koppeling)")),
        ((heading, "Bijlage: tarieven.csv", "tarieven", "rijen 1–2"), "Kolommen: Zone; Prijs\n\nZone: A; Prijs: 2 euro"),
        ((heading, "Bijlagen niet gelezen"), "groot.txt: niet gelezen, groter dan 1 MB")]


def test_outlook_msg_with_only_an_html_body_is_read() -> None:
    document = parse(files.msg("Nieuwsbrief", "", html="<html><body><p>Het milieupark is open.</p></body></html>"),
                     "nieuws.msg")
    assert document.sections[-1].text == "Het milieupark is open."


def test_a_damaged_msg_is_refused_with_a_reason() -> None:
    data = files.msg("Kapot", "Tekst.")
    with pytest.raises(DocumentError, match="beschadigd Outlook-bericht"):
        parse(data[:1500], "kapot.msg")
