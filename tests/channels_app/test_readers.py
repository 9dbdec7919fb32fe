"""The file readers stream: memory does not grow with the number of orders in the file."""

import csv
import io
import json
import tracemalloc

import pytest

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
