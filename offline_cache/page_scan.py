"""Reading rows straight from the pages of a damaged SQLite file.

When SQLite itself cannot walk a table (its b-tree points at pages that were
cut off or overwritten), the rows on the pages that are still intact can be
read directly: every *table leaf page* (type 0x0D) lists its cells, and each
cell is a rowid and a record (SQLite file format, section 2.1 and 2.3 of
https://www.sqlite.org/fileformat2.html). Records that spill onto overflow
pages are skipped (the outbox's rows are far smaller than a page).

The caller recognises its tables by the shape of the records; stale copies
(pages on the freelist keep old content) are resolved by the caller too.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

TABLE_LEAF = 0x0D


@dataclass
class ScanResult:
    records: list[tuple[int, list]]  # (rowid, values) from every readable table leaf cell
    pages: int = 0
    bad_cells: int = 0


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(8):
        b = buf[pos + i]
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, pos + i + 1
    return (value << 8) | buf[pos + 8], pos + 9


def _value(serial: int, buf: bytes, pos: int):
    if serial == 0:
        return None, pos
    if 1 <= serial <= 6:
        size = (1, 2, 3, 4, 6, 8)[serial - 1]
        return int.from_bytes(buf[pos:pos + size], "big", signed=True), pos + size
    if serial == 7:
        return struct.unpack(">d", buf[pos:pos + 8])[0], pos + 8
    if serial in (8, 9):
        return serial - 8, pos
    if serial >= 12:
        size = (serial - 12) // 2
        raw = buf[pos:pos + size]
        if len(raw) != size:
            raise ValueError("value runs past the page")
        return (raw if serial % 2 == 0 else raw.decode("utf-8")), pos + size
    raise ValueError(f"reserved serial type {serial}")


def _record(buf: bytes) -> list:
    header_size, pos = _varint(buf, 0)
    serials, end = [], header_size
    while pos < end:
        serial, pos = _varint(buf, pos)
        serials.append(serial)
    values, pos = [], end
    for serial in serials:
        value, pos = _value(serial, buf, pos)
        values.append(value)
    return values


def _page_size(data: bytes) -> int:
    if data[:16] == b"SQLite format 3\x00":
        raw = int.from_bytes(data[16:18], "big")
        size = 65536 if raw == 1 else raw
        if size >= 512 and size & (size - 1) == 0:
            return size
    return 4096  # the header is damaged: SQLite's default


def scan(data: bytes, page_size: int | None = None) -> ScanResult:
    size = page_size or _page_size(data)
    usable = size - (data[20] if len(data) > 20 and data[:16] == b"SQLite format 3\x00" else 0)
    max_local = usable - 35
    result = ScanResult([])
    for start in range(0, len(data) - size + 1, size):
        page = data[start:start + size]
        offset = 100 if start == 0 else 0
        if page[offset] != TABLE_LEAF:
            continue
        result.pages += 1
        cells = int.from_bytes(page[offset + 3:offset + 5], "big")
        for i in range(cells):
            try:
                ptr = int.from_bytes(page[offset + 8 + 2 * i:offset + 10 + 2 * i], "big")
                payload_len, pos = _varint(page, ptr)
                rowid, pos = _varint(page, pos)
                if payload_len > max_local or pos + payload_len > size:
                    result.bad_cells += 1  # spills onto overflow pages, or garbled
                    continue
                result.records.append((rowid, _record(page[pos:pos + payload_len])))
            except (IndexError, ValueError, UnicodeDecodeError, struct.error):
                result.bad_cells += 1
    return result
