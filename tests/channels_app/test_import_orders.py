"""``manage.py import_orders``: streamed, idempotent file imports with honest exit codes."""

import io
import json
import sys
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from channels_app.importers.parsers import CSV_COLUMNS
from channels_app.models import InboundOrder
from orders.models import Order
from tests import factories
from tests.channels_app.payloads import csv_rows, shopify_order, woo_order, write_csv


def run(*args):
    """Call the command; return (exit code, stdout, stderr) as a shell would see them."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_orders", *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code, err = exc.returncode, io.StringIO(str(exc))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def catalogue(warehouse):
    for sku in ("TEE-RED-M", "MUG-BLUE"):
        factories.stock(factories.ProductFactory(sku=sku), warehouse, 100)


def test_csv_with_an_unknown_sku_places_the_good_orders_and_keeps_the_bad_one(tmp_path, channel, catalogue):
    path = write_csv(
        tmp_path / "orders.csv",
        csv_rows("CSV-1", ("TEE-RED-M", 2, "19.90"), ("MUG-BLUE", 1, "7.50"))
        + csv_rows("CSV-2", ("GHOST-SKU", 1, "9.00"))
        + csv_rows("CSV-3", ("MUG-BLUE", 3, ""), email="bo@example.com"),
    )
    code, out, err = run("--channel", "webstore", "--format", "csv", str(path))
    assert code == 1
    assert out.strip() == "imported 2, duplicates 0, failed 1"
    assert "1 order(s) failed" in err
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["CSV-1", "CSV-3"]
    order = Order.objects.get(external_id="CSV-1")
    assert sorted(order.lines.values_list("sku", "quantity")) == [("MUG-BLUE", 1), ("TEE-RED-M", 2)]
    assert str(order.subtotal) == "47.30"
    # A blank unit_price takes the catalogue price (19.90 from the factory).
    assert str(Order.objects.get(external_id="CSV-3").lines.get().unit_price) == "19.90"
    failed = InboundOrder.objects.get(status="failed")
    assert (failed.external_id, failed.way_in, failed.format, failed.source) == ("CSV-2", "file", "csv", "orders.csv")
    assert "GHOST-SKU" in failed.error

    # The cause is fixed: replaying places it.
    from channels_app.intake import inbound_replay

    factories.ProductFactory(sku="GHOST-SKU")
    assert inbound_replay(inbound=failed, actor="user:manager").status == "imported"
    assert Order.objects.filter(external_id="CSV-2").exists()

    # The same file again creates nothing: no order, no staged row.
    staged = InboundOrder.objects.count()
    code, out, _ = run("--channel", "webstore", "--format", "csv", str(path))
    assert (code, out.strip()) == (0, "imported 0, duplicates 3, failed 0")
    assert Order.objects.count() == 3
    assert InboundOrder.objects.count() == staged


def test_reimporting_a_file_retries_what_failed(tmp_path, channel, catalogue):
    path = write_csv(tmp_path / "o.csv", csv_rows("CSV-9", ("LATE-SKU", 1, "1.00")))
    assert run("--channel", "webstore", "--format", "csv", str(path))[0] == 1
    factories.ProductFactory(sku="LATE-SKU")
    code, out, _ = run("--channel", "webstore", "--format", "csv", str(path))
    assert (code, out.strip()) == (0, "imported 1, duplicates 0, failed 0")
    assert InboundOrder.objects.get().status == "imported"


def test_bad_cells_fail_the_order_with_their_row(tmp_path, channel, catalogue):
    path = write_csv(
        tmp_path / "o.csv",
        csv_rows("A", ("TEE-RED-M", "two", "19.90")) + csv_rows("B", ("TEE-RED-M", 1, "abc"), placed_at="yesterday"),
    )
    code, out, _ = run("--channel", "webstore", "--format", "csv", str(path))
    assert (code, out.strip()) == (1, "imported 0, duplicates 0, failed 2")
    errors = dict(InboundOrder.objects.values_list("external_id", "error"))
    assert errors["A"] == "rows.0.quantity: quantity 'two' is not a whole number."
    assert "rows.0.unit_price: 'abc' is not a decimal amount." in errors["B"]
    assert "rows.0.placed_at" in errors["B"]


def test_small_batches_give_the_same_result(tmp_path, channel, catalogue):
    rows = [r for i in range(7) for r in csv_rows(f"B-{i}", ("TEE-RED-M", 1, "1.00"))]
    path = write_csv(tmp_path / "o.csv", rows)
    code, out, _ = run("--channel", "webstore", "--format", "csv", "--batch-size", "2", str(path))
    assert (code, out.strip()) == (0, "imported 7, duplicates 0, failed 0")
    assert Order.objects.count() == 7


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00binary garbage\xff\xfe", "UTF-8"),
        (b"id,name\n1,foo\n", "lacks column(s) external_id"),
        (",".join(CSV_COLUMNS).encode() + b"\n", "no orders found"),
    ],
)
def test_garbage_csv_exits_2_with_one_line(tmp_path, channel, content, reason):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    code, out, err = run("--channel", "webstore", "--format", "csv", str(path))
    assert code == 2
    assert reason in err
    assert "\n" not in err.strip()
    assert InboundOrder.objects.count() == 0


@pytest.mark.parametrize("fmt", ["shopify", "woocommerce"])
@pytest.mark.parametrize("content", [b"hello", b'{"orders": [{"id": 1,', b'{"orders": [1, 2]}', b"[]"])
def test_garbage_json_exits_2(tmp_path, channel, fmt, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    code, _, err = run("--channel", "webstore", "--format", fmt, str(path))
    assert code == 2, err
    assert err.strip()


def test_unknown_channel_and_missing_file_exit_2(tmp_path, channel):
    path = write_csv(tmp_path / "o.csv", csv_rows("A", ("TEE-RED-M", 1, "1.00")))
    assert run("--channel", "nope", "--format", "csv", str(path))[:1] == (2,)
    assert "Unknown channel 'nope'" in run("--channel", "nope", "--format", "csv", str(path))[2]
    assert run("--channel", "webstore", "--format", "csv", str(tmp_path / "missing.csv"))[0] == 2


def test_shopify_orders_json_is_imported(tmp_path, channel, catalogue):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps({"orders": [shopify_order(1001), shopify_order(1002, sku="NOPE")]}))
    code, out, _ = run("--channel", "webstore", "--format", "shopify", str(path))
    assert (code, out.strip()) == (1, "imported 1, duplicates 0, failed 1")
    order = Order.objects.get()
    assert (order.external_id, order.ship_region, order.ship_postal_code, str(order.ship_country)) == (
        "1001",
        "IL",
        "62701",
        "US",
    )
    assert order.placed_at.isoformat() == "2026-11-20T14:03:00+00:00"
    assert (order.notes, order.shipping_method) == ("leave at door", "standard")
    assert list(order.lines.values_list("sku", "quantity", "unit_price")) == [
        ("TEE-RED-M", 2, order.lines.get().unit_price)
    ]
    assert "NOPE" in InboundOrder.objects.get(status="failed").error
    assert (
        run("--channel", "webstore", "--format", "shopify", str(path))[1].strip()
        == "imported 0, duplicates 1, failed 1"
    )


def test_shopify_pending_payment_is_placed_on_hold(tmp_path, channel, catalogue):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps({"orders": [shopify_order(7, financial_status="pending")]}))
    assert run("--channel", "webstore", "--format", "shopify", str(path))[0] == 0
    assert Order.objects.get().status == "on_hold"


def test_woocommerce_export_is_imported(tmp_path, channel, catalogue):
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([woo_order(55), woo_order(56, sku="MUG-BLUE", qty=2)]))
    code, out, _ = run("--channel", "webstore", "--format", "woocommerce", str(path))
    assert (code, out.strip()) == (0, "imported 2, duplicates 0, failed 0")
    order = Order.objects.get(external_id="55")
    assert (order.currency, order.ship_city, str(order.ship_country), order.shipping_method) == (
        "EUR",
        "Berlin",
        "DE",
        "flat_rate",
    )
    assert order.customer.email == "jo@example.com"
    assert str(order.lines.get().unit_price) == "21.50"


def manage_py(*args, stdout, stderr):
    """``manage.py ARGS`` as a shell runs it (``run_from_argv``: exit code, no traceback), in this process."""
    from django.core.management import ManagementUtility

    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    try:
        # run_from_argv closes every connection when done, the test's own included: keep it open.
        with mock.patch("django.core.management.base.connections.close_all"):
            ManagementUtility(["manage.py", *args]).execute()
    except SystemExit as exc:
        return exc.code
    finally:
        sys.stdout, sys.stderr = old
    return 0


def test_from_the_shell_a_one_line_reason_and_no_traceback(tmp_path, channel):
    path = write_csv(tmp_path / "o.csv", csv_rows("P-1", ("TEE-RED-M", 1, "1.00")))
    err = io.StringIO()
    code = manage_py(
        "import_orders", "--channel", "nope", "--format", "csv", str(path), stdout=io.StringIO(), stderr=err
    )
    assert code == 2
    assert err.getvalue().strip().splitlines() == ["CommandError: Unknown channel 'nope'."]
    garbage = tmp_path / "g.json"
    garbage.write_bytes(b"\x00\x01 not json")
    err = io.StringIO()
    code = manage_py(
        "import_orders", "--channel", "webstore", "--format", "shopify", str(garbage), stdout=io.StringIO(), stderr=err
    )
    assert code == 2
    assert "Traceback" not in err.getvalue()
    assert len(err.getvalue().strip().splitlines()) == 1


def test_progress_bar_is_drawn_on_a_terminal_only(tmp_path, channel, catalogue):
    import fcntl
    import os
    import pty
    import select
    import struct
    import termios

    path = write_csv(tmp_path / "o.csv", csv_rows("P-1", ("TEE-RED-M", 1, "1.00")))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    out = io.StringIO()
    with os.fdopen(slave, "w") as terminal:
        code = manage_py(
            "import_orders", "--channel", "webstore", "--format", "csv", str(path), stdout=out, stderr=terminal
        )
    chunks = []  # a pty hands its buffer over in pieces: read until it is drained
    while select.select([master], [], [], 0.5)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:  # the writer's side is closed and everything was read
            break
        if not data:
            break
        chunks.append(data)
    drawn = b"".join(chunks).decode(errors="replace")
    os.close(master)
    assert code == 0
    assert out.getvalue().strip() == "imported 1, duplicates 0, failed 0"
    assert "o.csv: 100%" in drawn  # tqdm's bar

    err = io.StringIO()  # not a terminal: no bar
    assert (
        manage_py(
            "import_orders", "--channel", "webstore", "--format", "csv", str(path), stdout=io.StringIO(), stderr=err
        )
        == 0
    )
    assert err.getvalue() == ""


def test_a_crash_on_one_order_fails_that_order_only(tmp_path, channel, catalogue, monkeypatch):
    from orders import services

    real = services._validate  # a step of every order's placement, in bulk or one by one

    def flaky(data, products):
        if data.external_id == "C-2":
            raise RuntimeError("disk full")
        return real(data, products)

    monkeypatch.setattr(services, "_validate", flaky)
    rows = [r for i in (1, 2, 3) for r in csv_rows(f"C-{i}", ("TEE-RED-M", 1, "1.00"))]
    code, out, _ = run("--channel", "webstore", "--format", "csv", str(write_csv(tmp_path / "o.csv", rows)))
    assert (code, out.strip()) == (1, "imported 2, duplicates 0, failed 1")
    failed = InboundOrder.objects.get(status="failed")
    assert (failed.external_id, failed.error) == ("C-2", "RuntimeError: disk full")


def test_rows_of_one_order_split_apart_fail_with_a_hint(tmp_path, channel, catalogue):
    rows = (
        csv_rows("S-1", ("TEE-RED-M", 1, "1.00"))
        + csv_rows("S-2", ("TEE-RED-M", 1, "1.00"))
        + csv_rows("S-1", ("MUG-BLUE", 1, "1.00"))
    )
    code, out, _ = run("--channel", "webstore", "--format", "csv", str(write_csv(tmp_path / "o.csv", rows)))
    assert (code, out.strip()) == (1, "imported 2, duplicates 0, failed 1")
    failed = InboundOrder.objects.get(status="failed")
    assert failed.external_id == "S-1"
    assert "rows of one order may not be consecutive" in failed.error
