"""Parsers: each format's text, headings and pages, and a one-line Dutch error for every kind of bad input."""

from __future__ import annotations

import io
import time

import pytest

from core.errors import DocumentError
from ingestion.parsers import parse
from tests.paths import CORPUS


def _pdf(text_pages: list[str], password: str | None = None) -> bytes:
    """A small real PDF with one text line per page (written by hand: pypdf cannot add text)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in text_pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        page_id, content_id = len(objects) + 1, len(objects) + 2
        kids.append(f"{page_id} 0 R")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
                       f"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode()}\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode())
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    data = out.getvalue()
    if password is None:
        return data
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(password)
    encrypted = io.BytesIO()
    writer.write(encrypted)
    return encrypted.getvalue()


def test_markdown_front_matter_is_removed_and_headings_are_kept() -> None:
    data = b"---\ntitle: Thuiswerken\ntags: [a]\n---\n# Thuiswerken\n\nIntro.\n\n## Vergoeding\n\nTwee euro.\n"
    document = parse(data, "beleid.md")
    assert document.title == "Thuiswerken"
    assert all("tags:" not in s.text for s in document.sections)
    assert document.sections[-1].heading == ("Thuiswerken", "Vergoeding")
    assert document.sections[-1].text == "Twee euro."


def test_markdown_hash_inside_code_fence_is_not_a_heading() -> None:
    document = parse(b"# Titel\n\n```\n# geen kop\n```\n", "x.md")
    assert document.sections[0].heading == ("Titel",)
    assert "# geen kop" in document.sections[0].text


def test_pdf_text_keeps_page_numbers() -> None:
    document = parse(_pdf(["Eerste pagina", "Tweede pagina"]), "twee.pdf")
    assert [(s.page, s.text) for s in document.sections] == [(1, "Eerste pagina"), (2, "Tweede pagina")]


def test_real_pdf_from_the_corpus_has_pages() -> None:
    document = parse((CORPUS / "documenten" / "GenAI_compliance_FAQ.pdf").read_bytes(), "GenAI_compliance_FAQ.pdf")
    assert len(document.sections) > 3
    assert all(s.page for s in document.sections)


def test_docx_headings_build_the_heading_path() -> None:
    document = parse((CORPUS / "documenten" / "Invultemplate-AIIA2.0.docx").read_bytes(), "Invultemplate.docx")
    assert document.kind == "docx"
    assert any(s.heading for s in document.sections)
    assert document.text_length > 1000


def test_html_drops_scripts_and_keeps_headings() -> None:
    data = b"<html><head><title>T</title><script>alert(1)</script></head><body><h1>Kop</h1><p>Tekst</p></body>"
    document = parse(data, "pagina.html")
    assert document.title == "T"
    assert document.sections == [type(document.sections[0])(text="Tekst", heading=("Kop",), page=None)]


def test_plain_text_title_is_its_first_line() -> None:
    document = parse(b"Brief aan de raad\n\nGeachte raad,", "brief.txt")
    assert document.title == "Brief aan de raad"


@pytest.mark.parametrize(("data", "name", "reason"), [
    (b"", "leeg.txt", "leeg bestand"),
    (b"   \n\n", "wit.md", "leeg bestand"),
    (b"%PDF-1.4\n\x00\x01garbage", "kapot.pdf", "beschadigde PDF"),
    (b"just text", "vermomd.pdf", "geen PDF"),
    (b"PK\x03\x04garbage", "kapot.docx", "beschadigd ZIP"),
    (b"MZ\x90\x00\x03", "programma.exe", "wordt niet gelezen"),
    (b"\x00\x01\x02\x03", "binair.txt", "binaire inhoud"),
])
def test_bad_input_is_refused_with_a_reason(data: bytes, name: str, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        parse(data, name)


def test_encrypted_pdf_is_refused() -> None:
    with pytest.raises(DocumentError, match="versleutelde PDF"):
        parse(_pdf(["Geheim"], password="s3cret"), "geheim.pdf")


def test_pdf_without_text_is_refused() -> None:
    with pytest.raises(DocumentError, match="geen tekst gevonden"):
        parse(_pdf([""]), "scan.pdf")


def test_xlsx_from_the_corpus_is_read() -> None:
    data = (CORPUS / "documenten" / "AI-verordening_Impact_Analyse.xlsx").read_bytes()
    assert parse(data, "impact.xlsx").kind == "xlsx"


def test_latin1_text_is_read() -> None:
    assert parse(b"caf\xe9 au lait", "latin1.txt").sections[0].text == "caf\u00e9 au lait"


# --- linear time on pathological lines (the older patterns took seconds at 2 KB and hours at 20 KB) -------

PATHOLOGICAL = {
    "heading with a run of spaces": lambda n: "# a" + " " * n + "b",
    "heading with closing hashes": lambda n: "# a" + " #" * (n // 2) + "b",
    "front matter never closed": lambda n: "---\n" + ("\n---" + " " * 40 + "x") * (n // 45),
    "front matter title with spaces": lambda n: "---\ntitle: a" + " " * n + "b\n---\nTekst.",
    "unclosed images": lambda n: "![" * (n // 2),
    "images without a closing parenthesis": lambda n: "![a](" * (n // 5),
    "unclosed links": lambda n: "[" * n,
    "links without a closing parenthesis": lambda n: "[a](" * (n // 4),
    "addresses with unclosed inner parentheses": lambda n: "[a](x(" * (n // 6),
    "addresses with inner groups never closed": lambda n: "[a](x" + "(y)" * (n // 3),
    "brackets without links": lambda n: "[a]" * (n // 3),
    "unclosed tags": lambda n: "<" * n,
    "unclosed attribute lists": lambda n: "{:" * (n // 2),
}
HTML_PATHOLOGICAL = {
    "unclosed start tags": lambda n: "<a " * (n // 3),
    "unclosed quotes": lambda n: '<a x="' * (n // 6),
    "quotes that close in the next tag": lambda n: '<a ">' * (n // 5) + "tekst",
    "unclosed comments": lambda n: "<!--" * (n // 4),
    "unclosed end tags": lambda n: "</" * (n // 2),
    "a script never closed": lambda n: "<script>" + "</scrip" * (n // 7),
    "many attributes": lambda n: "<a " + 'x="1" ' * (n // 6) + ">tekst",
    "bare ampersands": lambda n: "&" * n + "x",
    "deep nesting": lambda n: "<div>" * (n // 5) + "tekst",
}


def _parse_quickly(data: bytes, name: str) -> float:
    started = time.perf_counter()
    try:
        parse(data, name)
    except DocumentError as exc:
        assert "geen tekst" in str(exc)  # a line of markup only may hold no text; anything else is a bug
    return time.perf_counter() - started


@pytest.mark.parametrize("size", [20_000, 200_000])
@pytest.mark.parametrize("case", sorted(PATHOLOGICAL))
def test_pathological_markdown_line_is_parsed_in_linear_time(case: str, size: int) -> None:
    text = "# Titel\n\nTekst.\n\n" + PATHOLOGICAL[case](size)
    assert _parse_quickly(text.encode(), "x.md") < 1.0


@pytest.mark.parametrize("size", [20_000, 200_000])
@pytest.mark.parametrize("case", sorted(HTML_PATHOLOGICAL))
def test_pathological_html_is_parsed_in_linear_time(case: str, size: int) -> None:
    text = "<html><body><p>Tekst.</p>" + HTML_PATHOLOGICAL[case](size)
    assert _parse_quickly(text.encode(), "x.html") < 1.0


@pytest.mark.parametrize(("line", "heading"), [
    ("# Titel", ("Titel",)), ("## Titel ##", ("Titel",)), ("# Titel #  ", ("Titel",)), ("# C#", ("C#",)),
    ("###### Zes", ("Zes",)), ("#\tTab", ("Tab",)),
])
def test_markdown_atx_headings(line: str, heading: tuple[str, ...]) -> None:
    assert parse(f"{line}\n\nTekst.".encode(), "x.md").sections[0].heading == heading


@pytest.mark.parametrize("line", ["#geen kop", "####### zeven", " # ingesprongen"])
def test_markdown_lines_that_are_no_heading_stay_text(line: str) -> None:
    section = parse(f"{line}\n".encode(), "x.md").sections[0]
    assert section.heading == () and section.text == line.strip()


def test_markdown_links_keep_their_text_and_images_go() -> None:
    document = parse(b"Zie [de regeling](https://x.nl/a) en ![logo](logo.png) {: .klasse} <br/>hier.", "x.md")
    assert document.sections[0].text == "Zie de regeling en hier."


def test_markdown_link_address_may_hold_parentheses() -> None:
    document = parse(b"- [Startarchitectuur](https://www.noraonline.nl/wiki/PSA_(Project_Startarchitectuur))", "x.md")
    assert document.sections[0].text == "- Startarchitectuur"


def test_markdown_front_matter_title_with_quotes() -> None:
    assert parse(b"+++\ntitle: 'Parkeren'\n+++\nTekst.", "x.md").title == "Parkeren"


def test_html_quoted_attribute_may_hold_a_closing_bracket() -> None:
    document = parse(b'<p title="a > b">Zichtbaar</p><!-- weg --><p>Ook &amp; dit</p>', "x.html")
    assert [s.text for s in document.sections] == ["Zichtbaar\nOok & dit"]


def test_html_style_and_unclosed_comment_are_dropped() -> None:
    document = parse(b"<style>p { x: 1 }</style><h2>Kop</h2><p>Tekst</p><!-- open", "x.html")
    assert [(s.heading, s.text) for s in document.sections] == [(("Kop",), "Tekst")]
