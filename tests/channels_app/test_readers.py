"""The file readers stream: memory does not grow with the number of orders in the file."""

import csv
import io
import json
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels_app.importers.parsers import CSV_COLUMNS, parse
from channels_app.importers.readers import UnusableFile, read_payloads


def csv_file(path, orders):
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for i in range(orders):
            for sku in ("A", "B"):
                writer.writerow(
                    [f"O-{i}", "", f"c{i}@example.com", "C", "C", "1 St", "", "Town", "", "1000", "US", sku, 1, "1.00"]
                )
    return path


def shopify_file(path, orders):
    with path.open("w") as f:
        f.write('{"orders": [')
        for i in range(orders):
            f.write(
                ("," if i else "")
                + json.dumps({"id": i, "email": "a@b.c", "line_items": [{"sku": "A", "quantity": 1}]})
            )
        f.write("]}")
    return path


def peak_while_reading(fmt, path):
    tracemalloc.start()
    with path.open("rb") as f:
        count = sum(1 for _ in read_payloads(fmt, f))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return count, peak


@pytest.mark.parametrize(("fmt", "make"), [("csv", csv_file), ("shopify", shopify_file)])
def test_memory_stays_flat_as_the_file_grows(tmp_path, fmt, make):
    small_count, small_peak = peak_while_reading(fmt, make(tmp_path / "small", 1_000))
    big_count, big_peak = peak_while_reading(fmt, make(tmp_path / "big", 30_000))
    assert (small_count, big_count) == (1_000, 30_000)
    assert (tmp_path / "big").stat().st_size > 2_000_000
    assert big_peak < small_peak * 2 + 200_000  # 30x the orders, not 30x the memory


def test_csv_groups_consecutive_rows_of_one_order(tmp_path):
    path = csv_file(tmp_path / "f.csv", 3)
    payloads = list(read_payloads("csv", path.open("rb")))
    assert [p["external_id"] for p in payloads] == ["O-0", "O-1", "O-2"]
    assert [p["line"] for p in payloads] == [2, 4, 6]
    data = parse("csv", payloads[1])
    assert [(line.sku, line.quantity) for line in data.lines] == [("A", 1), ("B", 1)]
    assert data.customer.email == "c1@example.com"


def test_a_bare_list_is_read_for_json_formats():
    payloads = list(read_payloads("woocommerce", io.BytesIO(b' [{"id": 1}, {"id": 2}]')))
    assert [p["id"] for p in payloads] == [1, 2]


def test_truncated_json_is_unusable_after_what_was_read():
    reader = read_payloads("shopify", io.BytesIO(b'{"orders": [{"id": 1}, {"id": 2'))
    assert next(reader) == {"id": 1}
    with pytest.raises(UnusableFile, match="Not valid JSON"):
        next(reader)


def dict_reader_payloads(data: bytes) -> list[dict]:
    """The CSV reader as first written (csv.DictReader): what the positional reader must give, row for row."""
    import itertools

    reader = csv.DictReader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
    reader.fieldnames = [h.strip() for h in (reader.fieldnames or [])]
    rows = []
    for row in reader:
        if any((v or "").strip() for k, v in row.items() if k):
            rows.append(({c: (row.get(c) or "").strip() for c in CSV_COLUMNS}, reader.line_num))
    return [
        {"line": group[0][1], "rows": [r for r, _ in group], "external_id": key}
        for key, group in ((k, list(g)) for k, g in itertools.groupby(rows, key=lambda r: r[0]["external_id"]))
    ]


cells = st.sampled_from(["", " ", "O-1", "O-2", " O-1 ", "x,y", 'say "hi"', "two\nlines", "é", "\t7\t"])
extra_names = st.lists(st.sampled_from(["", " ", "note", "sku", "external_id", " quantity "]), max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.permutations(CSV_COLUMNS), extra_names, st.data())
def test_rows_are_read_as_a_dict_reader_reads_them(columns, extra, data):
    """Columns in any order, names repeated (the last one counts), unnamed columns, rows shorter or longer
    than the header, blank lines, quoted commas and newlines: the same payloads as csv.DictReader gave."""
    header = list(columns)
    for name in extra:
        header.insert(data.draw(st.integers(0, len(header))), name)
    rows = data.draw(st.lists(st.lists(cells, max_size=len(header) + 2), max_size=6))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    raw = out.getvalue().encode()
    assert list(read_payloads("csv", io.BytesIO(raw))) == dict_reader_payloads(raw)
