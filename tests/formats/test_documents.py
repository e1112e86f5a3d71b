"""OpenDocument text and presentations and PowerPoint: headings, tables as rows, pages and slides kept;
encrypted ODF and a deck of images only refused with their reason."""

from __future__ import annotations

import pytest

from core.errors import DocumentError
from ingestion.parsers import parse
from ingestion.sandbox import SandboxedParser
from tests.formats import files


def test_odt_headings_tables_and_pages_are_kept(sandbox: SandboxedParser) -> None:
    data = files.odt([[(1, "Parkeerbeleid"), (0, "Een vergunning kost veertig euro.")],
                      [(2, "Tarieven"), (-1, "Zone|Prijs/A|2 euro per uur"), (0, "Betalen kan met de app.")]])
    document = sandbox.parse(data, "parkeren.odt")
    assert (document.kind, document.title) == ("odt", "Parkeerbeleid")
    assert [(s.heading, s.page, s.text) for s in document.sections] == [
        (("Parkeerbeleid",), 1, "Een vergunning kost veertig euro."),
        (("Parkeerbeleid", "Tarieven"), 2, "Zone | Prijs\nA | 2 euro per uur\nBetalen kan met de app.")]


def test_odp_has_one_section_per_slide_with_its_notes(sandbox: SandboxedParser) -> None:
    document = sandbox.parse(files.odp([("Welkom", "Agenda van de raad", "Begin met de mededelingen"),
                                        ("Besluit", "De raad stemt in", "")]), "raad.odp")
    assert document.kind == "odp"
    assert [(s.heading, s.page, s.text) for s in document.sections] == [
        (("Welkom",), 1, "Agenda van de raad\nNotities: Begin met de mededelingen"),
        (("Besluit",), 2, "De raad stemt in")]


def test_pptx_has_one_section_per_slide_with_its_notes(sandbox: SandboxedParser) -> None:
    document = sandbox.parse(files.pptx([("Omgevingsvisie", "Wonen en werken in balans", "Noem de wijken"),
                                         ("Planning", "Vaststelling in juni", "")]), "visie.pptx")
    assert document.kind == "pptx"
    assert [(s.heading, s.page, s.text) for s in document.sections] == [
        (("Omgevingsvisie",), 1, "Wonen en werken in balans\nNotities: Noem de wijken"),
        (("Planning",), 2, "Vaststelling in juni")]


def test_pptx_with_only_images_is_refused_with_the_reason(sandbox: SandboxedParser) -> None:
    with pytest.raises(DocumentError, match="bevat geen tekst"):
        sandbox.parse(files.pptx([("", "", ""), ("", "", "")], image_only=True), "fotos.pptx")


@pytest.mark.parametrize("name", ["geheim.odt", "geheim.ods"])
def test_encrypted_odf_is_refused_with_the_reason(sandbox: SandboxedParser, name: str) -> None:
    data = files.encrypt_odf(files.ods({"Blad": [["a", "b"]]}) if name.endswith("ods") else files.odt([[(0, "x")]]))
    with pytest.raises(DocumentError, match="versleuteld OpenDocument-bestand"):
        sandbox.parse(data, name)


@pytest.mark.parametrize(("data", "name", "reason"), [
    (files.old_xls(), "oud.xls", "oud Office-formaat"),
    (b"PK\x03\x04garbage", "kapot.ods", "beschadigd ZIP"),
    (b"gewone tekst", "vermomd.xlsx", "geen geldig XLSX-bestand"),
])
def test_other_office_files_are_refused_with_a_reason(data: bytes, name: str, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        parse(data, name)
