"""ZIP containers are checked before a parser opens them: members, declared and actual sizes, ratio."""

from __future__ import annotations

import io
import zipfile

import pytest

from core.errors import DocumentError
from ingestion.archive import MB, ZipLimits, check_zip, open_zip
from ingestion.parsers import ParseLimits, parse
from tests.hostile import files


def _limits(**overrides: int) -> ParseLimits:
    return ParseLimits(ZipLimits(**overrides))


def test_a_plain_docx_passes_the_checks() -> None:
    assert parse(files.docx(), "gewoon.docx").sections[0].text == "Een gewone alinea."


def test_declared_size_over_the_limit_is_refused_before_inflating() -> None:
    with pytest.raises(DocumentError, match="het bestand pakt uit tot meer dan 5 MB"):
        parse(files.docx_bomb(megabytes=8), "bom.docx", _limits(max_unpacked_bytes=5 * MB))


def test_actual_size_is_counted_while_inflating() -> None:
    """A central directory that understates a member's size: the count of inflated bytes stops it."""
    data = bytearray(files.docx(extra={"word/media/groot.bin": b"\0" * (3 * MB)}))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    member = archive.getinfo("word/media/groot.bin")
    # Rewrite the member's uncompressed size (offset 24 of its central directory entry) to 1 KB.
    position = data.find(b"word/media/groot.bin", data.find(b"PK\x01\x02")) - 46
    assert data[position:position + 4] == b"PK\x01\x02"
    data[position + 24:position + 28] = (1024).to_bytes(4, "little")
    # zipfile stops at the declared size and fails the CRC check: the member is refused as damaged.
    with pytest.raises(DocumentError, match="beschadigd"), open_zip(bytes(data)) as lying:
        assert lying.getinfo(member.filename).file_size == 1024
        check_zip(lying, ZipLimits(max_unpacked_bytes=2 * MB, max_ratio=10_000))


def test_compression_ratio_over_the_limit_is_refused() -> None:
    with pytest.raises(DocumentError, match="sterk samengeperst"):
        parse(files.ratio_docx(megabytes=3), "verhouding.docx", _limits(max_ratio=100))


def test_ratio_is_not_judged_for_small_members() -> None:
    assert parse(files.docx(extra={"word/klein.bin": b"\0" * 500_000}), "klein.docx").kind == "docx"


def test_too_many_members_are_refused() -> None:
    with pytest.raises(DocumentError, match="meer dan 100 onderdelen"):
        parse(files.many_members_docx(200), "onderdelen.docx", _limits(max_members=100))


def test_deeply_nested_xml_is_a_damaged_docx() -> None:
    with pytest.raises(DocumentError, match="beschadigd DOCX-bestand"):
        parse(files.nested_xml_docx(20_000), "genest.docx")


def test_entity_expansion_is_not_resolved() -> None:
    with pytest.raises(DocumentError, match="DOCX"):
        parse(files.laughs_docx(), "lachen.docx")


def test_flate_bomb_in_a_pdf_stops_at_the_limit() -> None:
    with pytest.raises(DocumentError, match="het bestand pakt uit tot meer dan 10 MB"):
        parse(files.flate_bomb_pdf(megabytes=30), "bom.pdf", _limits(max_unpacked_bytes=10 * MB))
