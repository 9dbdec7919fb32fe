"""Stream an export file into order payloads, one order at a time (memory stays flat).

* ``csv``: a header row with ``parsers.CSV_COLUMNS`` and one row per order line.
  Rows of one order share its ``external_id`` and must be **consecutive**: the
  reader groups neighbouring rows and never holds more than one order. A later,
  non-adjacent group with the same ``external_id`` is a second payload for the
  same order (it fails as an idempotency conflict unless it is the same order).
* ``shopify``: Admin REST ``orders.json`` (``{"orders": [...]}``) or a bare list of orders.
* ``woocommerce``: REST v3 ``/orders`` export (a list of orders) or ``{"orders": [...]}``.

A file that cannot be read as its format raises ``UnusableFile`` with a
one-line reason; what was read before stays imported.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator
from typing import IO, Any

import ijson

from .parsers import CSV_COLUMNS

FORMATS = ("csv", "shopify", "woocommerce")


class UnusableFile(Exception):
    """The file is not what its format says (the reason is one line, for a person)."""


class CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read from it, for a progress bar without ``tell()``."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None] | None = None):
        self.raw = raw
        self.bytes_read = 0
        self.on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        if self.on_read and n:
            self.on_read(n)
        return n


def read_payloads(fmt: str, binary: IO[bytes]) -> Iterator[dict[str, Any]]:
    if fmt == "csv":
        return _csv_payloads(binary)
    if fmt in ("shopify", "woocommerce"):
        return _json_payloads(binary)
    raise UnusableFile(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")


def _csv_payloads(binary: IO[bytes]) -> Iterator[dict[str, Any]]:
    text = io.TextIOWrapper(io.BufferedReader(binary), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = [h.strip() for h in next(reader, [])]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnusableFile(f"Not a UTF-8 CSV file: {exc}.") from None
    if not header:
        raise UnusableFile("The file is empty: expected a CSV header row.")
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise UnusableFile(f"The CSV header lacks column(s) {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}.")
    # Each row read by position, as csv.DictReader would map it: a name given twice is its last column's,
    # a column past the row's end is empty, a row with nothing in its named columns is a blank line.
    last = {name: i for i, name in enumerate(header)}
    wanted = [(column, last[column]) for column in CSV_COLUMNS]
    named = sorted(i for name, i in last.items() if name)

    def rows():
        try:
            for row in reader:
                n = len(row)
                if not any(row[i].strip() for i in named if i < n):
                    continue  # blank line
                yield {column: row[i].strip() if i < n else "" for column, i in wanted}, reader.line_num
        except (UnicodeDecodeError, csv.Error) as exc:
            raise UnusableFile(f"Unreadable CSV near line {reader.line_num + 1}: {exc}.") from None

    for external_id, group in itertools.groupby(rows(), key=lambda r: r[0]["external_id"]):
        group = list(group)
        yield {"line": group[0][1], "rows": [row for row, _ in group], "external_id": external_id}


def _json_payloads(binary: IO[bytes]) -> Iterator[dict[str, Any]]:
    buffered = io.BufferedReader(binary)
    head = buffered.peek(64)[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] == b"[":
        prefix = "item"
    elif head[:1] == b"{":
        prefix = "orders.item"
    else:
        raise UnusableFile('Not a JSON export: expected {"orders": [...]} or a list of orders.')
    try:
        for order in ijson.items(buffered, prefix, use_float=True):
            if not isinstance(order, dict):
                raise UnusableFile("Every order in the export must be a JSON object.")
            yield order
    except ijson.JSONError as exc:
        raise UnusableFile(f"Not valid JSON: {exc}.") from None
