"""Rebuild the shipped word and name lists from their sources (run by hand; Baken never runs it).

Sources, each open-licensed and none of them Faker's person lists (the evaluation set is made with Faker):
- OpenTaal word list 2.20.19 (BSD or CC BY 3.0; Debian package `wdutch`, /usr/share/dict/dutch):
  lower-case entries are Dutch words; capitalised single-word entries are proper nouns (names, places, brands),
  and a proper noun that also has a genitive entry ("Jeroen" and "Jeroens") is almost always a person's name.
- US Census Bureau 1990 name frequencies (public domain; shipped in the PyPI package `names` 0.3.0, MIT):
  English first names and surnames with their share of the population.
- Faker's nl_NL place names (MIT, PyPI `faker`): the towns, only to keep them out of person names (the
  evaluation scores no town, so this list cannot flatter it).
- zxcvbn-dutch 1.1 (MIT, PyPI): Dutch newspaper and English subtitle word frequencies, rank-ordered; used to tell
  which names are also everyday words.

    python guardrails/data/build_lists.py /usr/share/dict/dutch path/to/names path/to/frequency_lists.json
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def _census(path: Path, minimum: float) -> list[tuple[str, float]]:
    rows = []
    for line in path.read_text(encoding="ascii").splitlines():
        name, share = line.split()[:2]
        if float(share) >= minimum:
            rows.append((name.lower(), float(share)))
    return rows


def main(opentaal: Path, names_dir: Path, zxcvbn: Path) -> None:
    """Write lexicon_nl.txt.gz, proper_nl.txt, census_*.tsv, places_nl.txt and common_words.txt."""
    entries = [w.strip() for w in opentaal.read_text(encoding="utf-8").splitlines() if w.strip()]
    lower = sorted({w for w in entries if w[:1].islower() and " " not in w})
    capital = {w for w in entries if w[:1].isupper() and " " not in w and w[1:].islower()}
    genitive = {w for w in capital if w + "s" in capital or w + "'s" in capital}
    with gzip.open(HERE / "lexicon_nl.txt.gz", "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("\n".join(lower) + "\n")
    with (HERE / "proper_nl.txt").open("w", encoding="utf-8") as out:
        out.write("# OpenTaal 2.20.19 capitalised single-word entries, lower-cased; '+' marks a genitive entry.\n")
        for word in sorted(capital):
            out.write(("+" if word in genitive else "") + word.lower() + "\n")
    for kind, files, minimum in (("first", ("dist.male.first", "dist.female.first"), 0.001),
                                 ("last", ("dist.all.last",), 0.002)):
        shares: dict[str, float] = {}
        for file in files:
            for name, share in _census(names_dir / file, minimum):
                shares[name] = shares.get(name, 0.0) + share
        with (HERE / f"census_{kind}.tsv").open("w", encoding="utf-8") as out:
            out.write(f"# US Census 1990 {kind} names (public domain), percent of the population.\n")
            for name, share in sorted(shares.items(), key=lambda item: -item[1]):
                out.write(f"{name}\t{share:.3f}\n")
    from faker.providers.address.nl_NL import Provider as DutchAddresses

    with (HERE / "places_nl.txt").open("w", encoding="utf-8") as out:
        out.write("# Dutch towns (Faker nl_NL, MIT), lower-cased.\n")
        out.write("\n".join(sorted({town.lower() for town in DutchAddresses.cities})) + "\n")
    lists = json.loads(zxcvbn.read_text(encoding="utf-8"))
    with (HERE / "common_words.txt").open("w", encoding="utf-8") as out:
        out.write("# zxcvbn-dutch 1.1 (MIT): the most frequent lower-case Dutch words, then English words, by rank.\n")
        dutch = [w for w in lists["dutch"] if w.islower() and w.isalpha()]
        english = [w for w in lists["english"][:12000] if w.isalpha()]
        out.write("\n".join(dict.fromkeys(dutch + english)) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
