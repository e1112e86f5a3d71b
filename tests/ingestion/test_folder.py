"""What folder sync sees of a folder: relative paths, and hidden, temporary and outside-linked files left out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import UserError
from ingestion.folder import scan_folder, skip_reason


def test_files_are_named_by_their_path_relative_to_the_folder(tmp_path: Path) -> None:
    (tmp_path / "beleid" / "2026").mkdir(parents=True)
    (tmp_path / "beleid" / "2026" / "parkeren.md").write_text("# Parkeren\n", encoding="utf-8")
    (tmp_path / "thuiswerken.txt").write_text("Thuiswerken\n", encoding="utf-8")
    scan = scan_folder(tmp_path)
    assert [f.path for f in scan.files] == ["beleid/2026/parkeren.md", "thuiswerken.txt"]
    assert scan.files[1].size == len("Thuiswerken\n") and scan.files[1].mtime_ns > 0 and scan.skipped == []


@pytest.mark.parametrize(("name", "reason"), [
    (".verborgen.md", "verborgen"), ("~$besluit.docx", "tijdelijk bestand"), (".~lock.besluit.odt#", "tijdelijk bestand"),
    ("besluit.docx.tmp", "tijdelijk bestand"), ("Thumbs.db", "systeembestand"), ("besluit.docx", None),
])
def test_hidden_and_temporary_files_are_skipped(name: str, reason: str | None) -> None:
    assert skip_reason(name) == reason


def test_a_hidden_folder_is_skipped_whole(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config.md").write_text("# geheim\n", encoding="utf-8")
    scan = scan_folder(tmp_path)
    assert scan.files == [] and scan.skipped == [(".git", "verborgen")]


def test_symlinks_outside_the_folder_are_skipped_and_inside_ones_followed_once(tmp_path: Path) -> None:
    share, outside = tmp_path / "share", tmp_path / "outside"
    (share / "map").mkdir(parents=True)
    outside.mkdir()
    (outside / "geheim.md").write_text("# Geheim\n", encoding="utf-8")
    (share / "map" / "nota.md").write_text("# Nota\n", encoding="utf-8")
    os.symlink(outside / "geheim.md", share / "geheim.md")
    os.symlink(outside, share / "buiten")
    os.symlink(share / "map", share / "ook-map")  # inside: its files are reached once, under the real folder
    os.symlink(share, share / "map" / "lus")  # a loop back to the top
    os.symlink(tmp_path / "weg.md", share / "weg.md")  # dangling
    scan = scan_folder(share)
    assert [f.path for f in scan.files] == ["map/nota.md"]
    assert dict(scan.skipped) == {"buiten": "koppeling naar buiten de map", "geheim.md": "koppeling naar buiten de map",
                                  "weg.md": "niet leesbaar: No such file or directory"}


def test_an_undecodable_file_name_keeps_a_stable_identity(tmp_path: Path) -> None:
    with open(os.fsencode(tmp_path) + b"/nota-\xff.md", "wb") as file:
        file.write(b"# Nota\n")
    [file] = scan_folder(tmp_path).files
    assert file.path == "nota-\\xff.md" and file.absolute.read_bytes() == b"# Nota\n"


def test_a_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="geen map"):
        scan_folder(tmp_path / "bestaat-niet")
