"""``import_orders --jobs N`` on PostgreSQL: batches placed by forked processes side by side, the stock
reserved last (``orders.bulk_placement.StockCheck``); the same orders, rows and stock as one at a time."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F, Sum

from channels_app import intake
from channels_app.models import InboundOrder
from inventory.models import StockItem
from inventory.selectors import stock_drift
from orders import bulk_placement
from orders.models import Order, OrderEvent, OrderLine, Shipment
from tests import factories
from tests.channels_app.payloads import csv_rows, write_csv

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PLENTY, SCARCE = ["PAR-A", "PAR-B", "PAR-C"], "PAR-RARE"
ORDERS, RARE_ON_HAND = 240, 50


@pytest.fixture
def catalogue(warehouse):
    for sku in PLENTY:
        factories.stock(factories.ProductFactory(sku=sku), warehouse, 100_000)
    factories.stock(factories.ProductFactory(sku=SCARCE), warehouse, RARE_ON_HAND)


def _file(tmp_path):
    """ORDERS orders; every third wants one of the scarce SKU (80 wanted, 50 there), the rest plenty."""
    rows = []
    for i in range(ORDERS):
        lines = [(PLENTY[i % 3], 1 + i % 2, "9.90")]
        if i % 3 == 0:
            lines.append((SCARCE, 1, "4.50"))
        rows += csv_rows(f"PAR-{i}", *lines, email=f"buyer{i % 17}@example.com")
    return write_csv(tmp_path / "parallel.csv", rows)


def run(path, *args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("import_orders", "--channel", "webstore", "--format", "csv", *args, str(path), stdout=out)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue().strip()


@pytest.fixture
def pools(monkeypatch):
    """How many process pools the imports started (the processes themselves are forked: not observable here)."""
    started = []
    real = intake._Parallel.start.__func__

    def start(cls, jobs):
        started.append(jobs)
        return real(cls, jobs)

    monkeypatch.setattr(intake._Parallel, "start", classmethod(start))
    return started


def test_two_processes_place_the_file_as_one_would(tmp_path, channel, catalogue, pools):
    path = _file(tmp_path)

    assert run(path, "--jobs", "2", "--batch-size", "20") == (0, f"imported {ORDERS}, duplicates 0, failed 0")

    assert pools == [2]
    assert Order.objects.count() == ORDERS
    assert InboundOrder.objects.filter(status="imported").count() == ORDERS == InboundOrder.objects.count()
    assert Shipment.objects.values("order").distinct().count() == ORDERS  # each order with its shipment
    assert OrderEvent.objects.count() == 3 * ORDERS
    assert stock_drift() == []  # on hand = ledger, reserved = what open lines hold
    rare = StockItem.objects.get(product__sku=SCARCE)
    wanted = OrderLine.objects.filter(sku=SCARCE).aggregate(
        reserved=Sum("quantity_reserved"), backordered=Sum("quantity_backordered")
    )
    # Every unit of the scarce SKU went out, none twice, and nothing waits beside free stock.
    assert (rare.reserved, wanted["reserved"], wanted["backordered"]) == (RARE_ON_HAND, RARE_ON_HAND, 80 - RARE_ON_HAND)
    assert not StockItem.objects.filter(reserved__gt=F("on_hand")).exists()

    assert run(path, "--jobs", "2", "--batch-size", "20") == (0, f"imported 0, duplicates {ORDERS}, failed 0")
    assert Order.objects.count() == ORDERS


def test_a_batch_whose_stock_moved_is_placed_again_with_the_stock_locked(tmp_path, channel, catalogue, monkeypatch):
    """Another transaction reserving the chunk's stock between its plan and its reservation: the check
    refuses, the attempt is rolled back whole, and the batch is placed with its stock locked first."""
    real = bulk_placement.place_orders_reserving_last
    attempts = []

    def taken_meanwhile(*, channel, batch, actor):
        placements, check = real(channel=channel, batch=batch, actor=actor)
        attempts.append(len(batch))
        StockItem.objects.filter(product__sku=SCARCE).update(reserved=F("on_hand"))  # all of it, by "another"
        return placements, check

    monkeypatch.setattr(bulk_placement, "place_orders_reserving_last", taken_meanwhile)
    rows = csv_rows("MV-1", (SCARCE, 3, "4.50")) + csv_rows("MV-2", ("PAR-A", 1, "9.90"))
    path = write_csv(tmp_path / "moved.csv", rows)

    kwargs = {"channel": channel, "way_in": "file", "fmt": "csv", "source": "moved.csv"}
    from channels_app.importers.readers import read_payloads

    with path.open("rb") as fh:
        payloads = list(read_payloads("csv", fh))
    statuses = intake._import_batch({**kwargs, "payloads": payloads}, actor="system", bulk=True, reserving_last=True)

    assert attempts == [2]  # tried once reserving last, then placed the other way
    assert statuses == ["imported", "imported"]
    assert InboundOrder.objects.count() == 2  # the rolled-back attempt left nothing
    assert StockItem.objects.get(product__sku=SCARCE).reserved == 3  # the simulated taker was rolled back too
    assert Order.objects.get(external_id="MV-1").lines.get().quantity_reserved == 3
    assert stock_drift() == []


def test_jobs_must_be_at_least_one(tmp_path, channel, catalogue):
    path = write_csv(tmp_path / "one.csv", csv_rows("J-1", ("PAR-A", 1, "9.90")))
    assert run(path, "--jobs", "0") == (2, "--jobs must be at least 1.")
    assert not Order.objects.exists()


def test_a_file_unreadable_half_way_keeps_and_counts_the_batches_handed_out(tmp_path, channel, catalogue):
    path = write_csv(tmp_path / "half.csv", [row for i in range(200) for row in csv_rows(f"H-{i}", ("PAR-A", 1, ""))])
    with path.open("ab") as fh:
        fh.write(b"H-200,2026-11-20T14:03:00Z,\xff\xfe not UTF-8\n")

    code, message = run(path, "--jobs", "2", "--batch-size", "10")

    assert code == 2
    assert "Unreadable CSV near line" in message
    placed = Order.objects.count()
    assert 0 < placed < 200
    assert placed % 10 == 0  # whole batches, every one read before the bad bytes
    assert f"(before that: imported {placed}, duplicates 0, failed 0)" in message
    assert InboundOrder.objects.count() == placed


def test_an_import_process_that_dies_is_an_error_and_a_rerun_completes(tmp_path, channel, catalogue, monkeypatch):
    import os

    real = intake._import_batch

    def dies_on_the_third(kwargs, **options):
        if kwargs["payloads"][0]["external_id"] == "D-20":
            os._exit(9)  # as the kernel's OOM killer would
        return real(kwargs, **options)

    monkeypatch.setattr(intake, "_import_batch", dies_on_the_third)  # the forked processes inherit it
    path = write_csv(tmp_path / "dies.csv", [row for i in range(40) for row in csv_rows(f"D-{i}", ("PAR-B", 1, ""))])

    code, message = run(path, "--jobs", "2", "--batch-size", "10")

    assert code == 1
    assert "an import process died" in message
    assert "run the import again" in message
    monkeypatch.setattr(intake, "_import_batch", real)
    assert run(path, "--jobs", "2", "--batch-size", "10")[0] == 0
    assert Order.objects.count() == 40 == InboundOrder.objects.filter(status="imported").count()
    assert stock_drift() == []


def test_a_placing_process_reserves_last(tmp_path, channel, catalogue, monkeypatch):
    """What each forked process runs (here in this one): the batch planned unlocked, reserved last."""
    from channels_app.importers.readers import read_payloads

    calls = []
    real = bulk_placement.place_orders_reserving_last
    monkeypatch.setattr(
        bulk_placement, "place_orders_reserving_last", lambda **kw: calls.append(len(kw["batch"])) or real(**kw)
    )
    with write_csv(tmp_path / "one.csv", csv_rows("RL-9", ("PAR-C", 2, ""))).open("rb") as fh:
        payloads = list(read_payloads("csv", fh))
    kwargs = {"channel": channel, "way_in": "file", "fmt": "csv", "source": "one.csv", "payloads": payloads}

    assert intake._import_batch_apart(kwargs, "system") == ["imported"]
    assert calls == [1]
    assert StockItem.objects.get(product__sku="PAR-C").reserved == 2
