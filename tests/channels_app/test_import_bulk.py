"""``import_orders`` places each batch in one transaction (``orders.bulk_placement``), in flat memory."""

from __future__ import annotations

import gc
import io
import tracemalloc

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_app.models import InboundOrder
from orders import bulk_placement
from orders.models import Order, OrderEvent, Shipment
from tests import factories
from tests.benchmarks.bench_import import write_orders_csv
from tests.channels_app.payloads import csv_rows, write_csv

pytestmark = pytest.mark.django_db

SKUS = ["BULK-A", "BULK-B", "BULK-C", "BULK-D", "BULK-E", "BULK-F", "BULK-G", "BULK-H"]


@pytest.fixture
def catalogue(warehouse):
    for sku in SKUS:
        factories.stock(factories.ProductFactory(sku=sku), warehouse, 1_000_000)


def run(path, *args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("import_orders", "--channel", "webstore", "--format", "csv", *args, str(path), stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue().strip()
    return 0, out.getvalue().strip()


def test_a_batch_costs_a_few_statements_whatever_its_size(tmp_path, channel, catalogue):
    def statements(count: int, prefix: str) -> int:
        path = tmp_path / f"{prefix}.csv"
        write_orders_csv(path, count=count, skus=SKUS, prefix=prefix)
        with CaptureQueriesContext(connection) as ctx:
            assert run(path, "--batch-size", "100") == (0, f"imported {count}, duplicates 0, failed 0")
        return len(ctx.captured_queries)

    statements(1, "WARM")  # the customers and the channel's rows exist from here on
    few, many = statements(5, "FEW"), statements(20, "MANY")
    # One order at a time cost ~20 statements an order; a batch costs the same, however many orders it holds.
    # (SQLite splits inserts past 999 values; 20 orders of 3 lines stay under it.)
    assert many == few
    assert Order.objects.count() == 26
    assert OrderEvent.objects.count() == 3 * 26


def test_a_bad_order_in_a_batch_is_kept_failed_and_the_rest_placed(tmp_path, channel, catalogue):
    rows = (
        csv_rows("G-1", ("BULK-A", 1, "5.00"))
        + csv_rows("G-2", ("NO-SUCH-SKU", 1, "5.00"))
        + csv_rows("G-3", ("BULK-B", 2, ""), email="bo@example.com")
        + csv_rows("G-1", ("BULK-C", 1, "5.00"))  # not next to its first rows: a conflicting second payload
    )
    path = write_csv(tmp_path / "o.csv", rows)

    assert run(path) == (1, "imported 2, duplicates 0, failed 2")
    assert sorted(Order.objects.values_list("external_id", "status")) == [("G-1", "received"), ("G-3", "received")]
    failed = dict(InboundOrder.objects.filter(status="failed").values_list("external_id", "error"))
    assert "NO-SUCH-SKU" in failed["G-2"]
    assert "rows of one order may not be consecutive" in failed["G-1"]
    placed = InboundOrder.objects.filter(status="imported")
    assert sorted((i.external_id, i.order.external_id, i.attempts) for i in placed) == [
        ("G-1", "G-1", 1),
        ("G-3", "G-3", 1),
    ]
    assert Shipment.objects.count() == 2

    # Again: the placed ones are duplicates, the failed ones are tried again (and fail again).
    assert run(path) == (1, "imported 0, duplicates 2, failed 2")
    assert Order.objects.count() == 2
    assert InboundOrder.objects.get(external_id="G-2").attempts == 2


def test_a_batch_stores_each_payload_once_with_its_outcome_and_a_replay_updates_what_failed(
    tmp_path, channel, catalogue
):
    rows = (
        csv_rows("R-1", ("BULK-A", 1, "5.00"))
        + csv_rows("R-2", ("LATER", 1, "5.00"))  # no such product yet
        + csv_rows("R-3", ("BULK-B", 1, "5.00"))
        + csv_rows("R-1", ("BULK-A", 1, "5.00"))  # the same payload again, not next to it
    )
    path = write_csv(tmp_path / "r.csv", rows)

    assert run(path) == (1, "imported 2, duplicates 1, failed 1")
    # The second R-1 is a payload of its own (it names its line in the file), placed as a duplicate.
    first, second = InboundOrder.objects.filter(external_id="R-1").order_by("id")
    assert (first.status, second.status) == ("imported", "duplicate")
    assert first.order_id == second.order_id == Order.objects.get(external_id="R-1").pk
    assert (first.attempts, second.attempts) == (1, 1)
    staged = {i.external_id: i for i in InboundOrder.objects.order_by("id")}
    assert (staged["R-2"].status, staged["R-2"].order_id, staged["R-2"].attempts) == ("failed", None, 1)
    assert "LATER" in staged["R-2"].error

    factories.stock(factories.ProductFactory(sku="LATER"), Order.objects.first().shipments.first().location, 5)
    assert run(path) == (0, "imported 1, duplicates 3, failed 0")  # the cause fixed: the failed one goes in
    again = InboundOrder.objects.get(pk=staged["R-2"].pk)
    assert (again.status, again.order.external_id, again.attempts, again.error) == ("imported", "R-2", 2, "")
    assert InboundOrder.objects.count() == 4  # nothing staged twice
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["R-1", "R-2", "R-3"]


def test_a_batch_whose_placing_crashes_is_staged_first_and_placed_one_by_one(tmp_path, channel, catalogue, monkeypatch):
    """The batch's one transaction crashes (a bug, say) after writing: nothing of it stays, then every payload is
    staged on its own commit and placed alone, so only what really fails is failed."""
    real = bulk_placement.place_orders
    crashes = []

    def crash_after_writing(**kwargs):
        real(**kwargs)  # its orders are written, then lost with the transaction
        crashes.append(len(kwargs["batch"]))
        raise RuntimeError("placing crashed")

    monkeypatch.setattr(bulk_placement, "place_orders", crash_after_writing)
    rows = (
        csv_rows("K-1", ("BULK-A", 1, "5.00"))
        + csv_rows("K-2", ("NO-SUCH-SKU", 1, "5.00"))
        + csv_rows("K-3", ("BULK-B", 2, "5.00"))
    )
    path = write_csv(tmp_path / "k.csv", rows)

    assert run(path) == (1, "imported 2, duplicates 0, failed 1")
    assert crashes == [3]
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["K-1", "K-3"]
    staged = dict(InboundOrder.objects.values_list("external_id", "status"))
    assert staged == {"K-1": "imported", "K-2": "failed", "K-3": "imported"}
    assert InboundOrder.objects.count() == 3  # each payload once: the crashed batch left no rows
    assert OrderEvent.objects.filter(order__external_id="K-1").count() == 3


def _peak_bytes(tmp_path, count: int) -> int:
    path = tmp_path / f"m{count}.csv"
    write_orders_csv(path, count=count, skus=SKUS, prefix=f"M{count}")
    tracemalloc.start()
    try:
        assert run(path, "--batch-size", "20", "--jobs", "1")[0] == 0  # this process holds every batch
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.django_db(transaction=True)
def test_memory_stays_flat_as_the_file_grows(tmp_path, channel, catalogue, monkeypatch):
    from channels_app.management.commands import import_orders
    from orders import outbox

    # Each batch really commits here, as in a real import, so nothing waits for a commit that never
    # comes; the outbox's dispatch is left out to keep the test fast (it runs after commit, per batch).
    monkeypatch.setattr(outbox, "wants", lambda event_type: False)
    # Cycles collected promptly: the peak is what is held, not garbage in waiting (the import's own
    # thresholds let up to 7,000 young objects wait).
    monkeypatch.setattr(import_orders, "GC_THRESHOLDS", (100, 2, 2))
    _peak_bytes(tmp_path, 60)  # caches and lazy imports are paid here, not by the first measured run
    small, large = _peak_bytes(tmp_path, 100), _peak_bytes(tmp_path, 800)
    assert Order.objects.count() == 960
    # Streaming: a batch in memory at a time. Holding the orders would cost ~8x for 8x the file;
    # measured 1.2-1.5x (caches that fill as a run goes on, the allocator's own slack).
    assert large < 2 * small, (small, large)


def test_the_import_runs_with_the_collector_set_for_batches_and_restores_it(tmp_path, channel, catalogue, monkeypatch):
    from channels_app import intake
    from channels_app.management.commands import import_orders

    seen = []
    real = intake.inbound_import

    def spy(**kwargs):
        seen.append((gc.get_threshold(), gc.get_freeze_count() > 0))
        return real(**kwargs)

    monkeypatch.setattr(import_orders, "inbound_import", spy)
    before = gc.get_threshold()
    path = write_csv(tmp_path / "gc.csv", csv_rows("GC-1", ("BULK-A", 1, "5.00")))

    assert run(path) == (0, "imported 1, duplicates 0, failed 0")
    assert seen == [(import_orders.GC_THRESHOLDS, True)]
    assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)


def test_a_batch_whose_reserving_last_crashes_is_placed_again_the_usual_way(tmp_path, channel, catalogue, monkeypatch):
    """A bug in the reserving-last attempt (the parallel import's) costs the attempt, not the batch."""
    from channels_app import intake
    from channels_app.importers.readers import read_payloads

    def crash(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(bulk_placement, "place_orders_reserving_last", crash)
    rows = csv_rows("RL-1", ("BULK-A", 2, "5.00")) + csv_rows("RL-2", ("BULK-B", 1, "5.00"))
    with write_csv(tmp_path / "rl.csv", rows).open("rb") as fh:
        payloads = list(read_payloads("csv", fh))
    kwargs = {"channel": channel, "way_in": "file", "fmt": "csv", "source": "rl.csv", "payloads": payloads}

    statuses = intake._import_batch(kwargs, actor="system", bulk=True, reserving_last=True)

    assert statuses == ["imported", "imported"]
    assert InboundOrder.objects.count() == 2
    assert sorted(Order.objects.values_list("external_id", "lines__quantity_reserved")) == [("RL-1", 2), ("RL-2", 1)]


@pytest.mark.parametrize(
    ("option", "rule"), [("--batch-size", "--batch-size must be at least 1."), ("--jobs", "--jobs must be at least 1.")]
)
def test_a_count_below_one_is_refused_before_anything_is_read(tmp_path, channel, catalogue, option, rule):
    path = write_csv(tmp_path / "z.csv", csv_rows("Z-1", ("BULK-A", 1, "5.00")))
    out = io.StringIO()
    with pytest.raises(CommandError, match=rule) as refused:
        call_command("import_orders", "--channel", "webstore", "--format", "csv", option, "0", str(path), stdout=out)
    assert refused.value.returncode == 2
    assert not InboundOrder.objects.exists()
    assert not Order.objects.exists()
