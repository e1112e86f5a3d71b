"""A minimal Compound File (OLE2, [MS-CFB] version 3) writer, for test files only: Outlook MSG messages and
the start of password-protected Office files. Streams under 4,096 bytes go to the mini stream, as the
format requires; the directory is a plain chain of right siblings (readers do not need it balanced)."""

from __future__ import annotations

import itertools
import struct

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A Compound File holding ``streams`` by path ("storage/stream"); storages are made as needed."""
    entries = [{"name": "Root Entry", "type": 5, "children": [], "data": b""}]
    index = {"": 0}
    for path, data in streams.items():
        parent = ""
        for part in path.split("/")[:-1]:
            key = f"{parent}/{part}" if parent else part
            if key not in index:
                index[key] = len(entries)
                entries.append({"name": part, "type": 1, "children": [], "data": b""})
                entries[index[parent]]["children"].append(index[key])
            parent = key
        index[path] = len(entries)
        entries.append({"name": path.split("/")[-1], "type": 2, "children": [], "data": data})
        entries[index[parent]]["children"].append(index[path])

    sectors: list[bytes] = []
    fat: list[int] = []

    def allocate(data: bytes) -> int:
        count = max(1, -(-len(data) // SECTOR))
        start = len(sectors)
        for n in range(count):
            sectors.append(data[n * SECTOR:(n + 1) * SECTOR].ljust(SECTOR, b"\x00"))
            fat.append(start + n + 1 if n < count - 1 else END)
        return start

    mini_stream, minifat = b"", []
    for entry in entries[1:]:
        data = entry["data"]
        if entry["type"] != 2:
            entry["start"], entry["size"] = 0, 0
        elif len(data) < CUTOFF:
            count = max(1, -(-len(data) // MINI))
            start = len(mini_stream) // MINI
            mini_stream += data.ljust(count * MINI, b"\x00")
            minifat += [start + n + 1 if n < count - 1 else END for n in range(count)]
            entry["start"], entry["size"] = start, len(data)
        else:
            entry["start"], entry["size"] = allocate(data), len(data)
    entries[0]["start"], entries[0]["size"] = (allocate(mini_stream), len(mini_stream)) if mini_stream else (END, 0)
    minifat_start = allocate(b"".join(struct.pack("<I", n) for n in minifat)) if minifat else END
    minifat_sectors = -(-len(minifat) * 4 // SECTOR) if minifat else 0
    directory_start = allocate(b"".join(_entry(entry, entries) for entry in entries))
    fat_count = 1
    while (len(sectors) + fat_count) * 4 > fat_count * SECTOR:
        fat_count += 1
    fat_start = len(sectors)
    fat += [FATSECT] * fat_count
    fat += [FREE] * (fat_count * SECTOR // 4 - len(fat))
    table = b"".join(struct.pack("<I", n) for n in fat)
    sectors += [table[n * SECTOR:(n + 1) * SECTOR] for n in range(fat_count)]
    difat = [fat_start + n for n in range(fat_count)] + [FREE] * (109 - fat_count)
    header = (MAGIC + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, fat_count, directory_start, 0, CUTOFF, minifat_start, minifat_sectors,
                            END, 0)
              + b"".join(struct.pack("<I", n) for n in difat))
    return header + b"".join(sectors)


def _entry(entry: dict, entries: list[dict]) -> bytes:  # type: ignore[type-arg]
    name = entry["name"].encode("utf-16-le") + b"\x00\x00"
    children = entry["children"]
    child = children[0] if children else NOSTREAM
    for previous, following in itertools.pairwise(children):
        entries[previous]["right"] = following
    right = entry.get("right", NOSTREAM)
    return (name.ljust(64, b"\x00") + struct.pack("<HBB", len(name), entry["type"], 1)
            + struct.pack("<III", NOSTREAM, right, child) + bytes(16) + bytes(4) + bytes(16)
            + struct.pack("<IQ", entry["start"], entry["size"]))
