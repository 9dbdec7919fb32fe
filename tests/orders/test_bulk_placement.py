"""orders.bulk_placement.place_orders: a chunk in one transaction gives what place_order gives one by one."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from inventory.models import ChannelStockRule, StockItem
from orders import bulk_placement, placement, services
from orders.errors import DomainError
from orders.models import Order, OrderEvent, Shipment
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(channel, warehouse):
    """Two own locations and a 3PL, stock that runs out during the chunk, a safety stock rule and a daily cap."""
    near = factories.LocationFactory(code="NEAR", priority=0)
    tpl = factories.LocationFactory(code="TPL", priority=5, kind="third_party", daily_shipment_capacity=2)
    channel.locations.add(near, tpl)
    tee = factories.ProductFactory(sku="TEE", price=Decimal("19.90"))
    mug = factories.ProductFactory(sku="MUG", price=Decimal("7.50"))
    cap = factories.ProductFactory(sku="CAP", price=Decimal("12.00"))
    factories.ProductFactory(sku="OLD", active=False)
    factories.stock(tee, warehouse, 6)
    factories.stock(tee, near, 3)
    factories.stock(mug, warehouse, 4)
    factories.stock(mug, tpl, 20)
    factories.stock(cap, tpl, 9)
    ChannelStockRule.objects.create(channel=channel, location=near, safety_stock=1)
    return {"near": near, "tpl": tpl}


def _inputs() -> list[services.OrderInput]:
    """A chunk with every outcome: received, split, backordered, held (payment, a hold check), priced by a
    resolver, invalid in the middle, a duplicate and a conflict within the chunk, a repeat customer."""
    oi = factories.order_input
    return [
        oi("B-1", [("TEE", 2), ("MUG", 1)]),
        oi("B-2", [("TEE", 4)], email="Bo@Example.com"),
        oi("B-3", [("GHOST", 1), ("TEE", 0)]),  # invalid: unknown SKU and quantity 0
        oi("B-4", [("TEE", 5), ("CAP", 2)], email="bo@example.com"),  # what is left of TEE, then backordered
        oi("B-5", [("MUG", 3)], payment_status="pending"),
        oi("B-6", [("MUG", 2), ("CAP", 1)], notes="hold me"),
        oi("B-7", [("OLD", 1)]),  # inactive product
        oi("B-1", [("TEE", 2), ("MUG", 1)]),  # the same order again: a duplicate
        oi("B-2", [("TEE", 1)]),  # other content: a conflict
        oi("B-8", [("CAP", 3), ("MUG", 4)], email="cy@example.com"),
        oi("B-9", [("MUG", 9)], email="cy@example.com"),  # the 3PL's daily cap (2) is reached by now
        oi("B-10", [("TEE", 1)], shipping_method="express"),
    ]


@pytest.fixture
def hooks(monkeypatch):
    """A hold check and a price resolver, as higher apps register them."""

    def hold(*, order, lines):
        return "manual_review" if order.notes == "hold me" else None

    def price(*, channel, customer, items):
        return [Decimal("5.00") if product.sku == "MUG" and quantity >= 3 else None for product, quantity in items]

    monkeypatch.setattr(placement, "_HOLD_CHECKS", [hold])
    monkeypatch.setattr(placement, "_PRICE_RESOLVERS", [price])


def _one_by_one(channel, inputs) -> list[tuple]:
    answers = []
    for data in inputs:
        try:
            order, created = services.place_order(channel=channel, data=data, actor="system")
        except DomainError as exc:
            answers.append(("failed", exc.code, [(e.code, e.attr) for e in exc.items]))
        else:
            answers.append(("placed" if created else "duplicate", order.external_id))
    return answers


def _in_bulk(channel, inputs) -> list[tuple]:
    return _answers(bulk_placement.place_orders(channel=channel, batch=inputs, actor="system"))


def _answers(results: list[bulk_placement.Placement]) -> list[tuple]:
    answers = []
    for result in results:
        if result.error is not None:
            answers.append(("failed", result.error.code, [(e.code, e.attr) for e in result.errors]))
        else:
            answers.append(("placed" if result.created else "duplicate", result.order.external_id))
    return answers


def _state() -> dict:
    """Everything placement writes, without primary keys (they differ between the two runs)."""
    orders = {}
    for order in Order.objects.select_related("customer").prefetch_related(
        "lines", "shipments__lines__order_line", "shipments__location", "events"
    ):
        orders[order.external_id] = {
            "row": (order.status, order.hold_reason, order.customer.email, order.customer.name, order.subtotal),
            "received": order.received_at is not None,
            "fields": (order.currency, order.shipping_method, order.payment_status, order.notes, order.fingerprint),
            "lines": sorted(
                (
                    ln.sku,
                    ln.quantity,
                    ln.unit_price,
                    ln.quantity_reserved,
                    ln.quantity_backordered,
                    ln.quantity_filled_at_receipt,
                )
                for ln in order.lines.all()
            ),  # fmt: skip
            "shipments": sorted(
                (
                    s.location.code,
                    s.fulfillment,
                    s.status,
                    sorted((sl.order_line.sku, sl.quantity) for sl in s.lines.all()),
                )
                for s in order.shipments.all()
            ),  # fmt: skip
            "events": [(e.type, e.actor, e.data) for e in sorted(order.events.all(), key=lambda e: (e.at, e.id))],
        }
    stock = sorted(StockItem.objects.values_list("product__sku", "location__code", "on_hand", "reserved"))
    return {"orders": orders, "stock": stock}


def _rolled_back(place) -> tuple[list[tuple], dict]:
    """What ``place()`` answers and writes, then undone: what another way of placing must match."""
    before = transaction.savepoint()
    answers, state = place(), _state()
    transaction.savepoint_rollback(before)
    assert Order.objects.count() == 0
    return answers, state


def test_a_chunk_gives_the_same_answers_and_rows_as_one_by_one(channel, floor, hooks):
    inputs = _inputs()
    expected_answers, expected = _rolled_back(lambda: _one_by_one(channel, inputs))

    answers = _in_bulk(channel, inputs)

    assert answers == expected_answers
    assert _state() == expected
    # The chunk covers what it claims to: every outcome happened.
    statuses = {ext: o["row"][:2] for ext, o in expected["orders"].items()}
    assert statuses["B-4"] == ("backordered", "")
    assert statuses["B-5"] == ("on_hold", "payment_pending")
    assert statuses["B-6"] == ("on_hold", "manual_review")
    assert [a[0] for a in answers].count("failed") == 3
    assert ("duplicate", "B-1") in answers
    assert expected["orders"]["B-9"]["lines"][0][4] > 0  # the capped 3PL took no new shipment: backordered


def test_stock_counters_match_the_reservations(channel, floor):
    bulk_placement.place_orders(channel=channel, batch=_inputs(), actor="system")
    out = io.StringIO()
    call_command("check_stock", stdout=out)  # exits 1 on any drift
    assert "consistent" in out.getvalue()
    assert not StockItem.objects.filter(reserved__gt=F("on_hand")).exists()


def test_importing_the_chunk_again_changes_nothing(channel, floor):
    first = bulk_placement.place_orders(channel=channel, batch=_inputs(), actor="system")
    rows = (Order.objects.count(), Shipment.objects.count(), OrderEvent.objects.count())
    stock = list(StockItem.objects.order_by("pk").values_list("reserved", flat=True))

    again = bulk_placement.place_orders(channel=channel, batch=_inputs(), actor="system")

    assert [(r.created, r.order.pk if r.order else None) for r in again if r.error is None] == [
        (False, r.order.pk) for r in first if r.error is None
    ]
    assert [r.error.code for r in again if r.error] == [r.error.code for r in first if r.error]
    assert (Order.objects.count(), Shipment.objects.count(), OrderEvent.objects.count()) == rows
    assert list(StockItem.objects.order_by("pk").values_list("reserved", flat=True)) == stock


def test_a_bad_order_in_the_middle_fails_alone(channel, floor):
    inputs = [factories.order_input(f"M-{i}", [("CAP", 1)]) for i in range(5)]
    inputs[2] = replace(inputs[2], shipping_address=replace(inputs[2].shipping_address, country="XX"))

    results = bulk_placement.place_orders(channel=channel, batch=inputs, actor="system")

    assert [r.created for r in results] == [True, True, False, True, True]
    assert [(e.code, e.attr) for e in results[2].errors] == [("invalid_country", "shipping_address.country")]
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["M-0", "M-1", "M-3", "M-4"]


def test_a_chunk_costs_the_same_statements_for_10_or_30_orders(channel, warehouse, monkeypatch):
    # Price resolvers registered by higher apps may read per line; this counts placement's own statements.
    monkeypatch.setattr(placement, "_PRICE_RESOLVERS", [])
    factories.stock(factories.ProductFactory(sku="PIN"), warehouse, 10_000)
    factories.stock(factories.ProductFactory(sku="PEN"), warehouse, 10_000)

    def statements(n: int, start: int) -> int:
        batch = [factories.order_input(f"Q-{start + i}", [("PIN", 1), ("PEN", 2)]) for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            bulk_placement.place_orders(channel=channel, batch=batch, actor="system")
        return len(ctx.captured_queries)

    # (SQLite splits an INSERT of more than 999 values; 30 orders stay under it.)
    statements(1, 1000)  # the customer exists from here on
    assert statements(10, 0) == statements(30, 100)


def test_events_reach_the_outbox_in_one_task_after_commit(
    channel, warehouse, django_capture_on_commit_callbacks, monkeypatch
):
    from orders import outbox, tasks

    monkeypatch.setattr(outbox, "wants", lambda event_type: True)
    factories.stock(factories.ProductFactory(sku="PIN"), warehouse, 100)
    batch = [factories.order_input(f"E-{i}", [("PIN", 1)]) for i in range(3)]
    enqueue = mock.patch.object(tasks.outbox_dispatch_task, "apply_async", wraps=tasks.outbox_dispatch_task.apply_async)
    with enqueue as enqueued, django_capture_on_commit_callbacks(execute=True):
        bulk_placement.place_orders(channel=channel, batch=batch, actor="system")

    events = list(OrderEvent.objects.order_by("id").values_list("type", flat=True))
    assert events == ["placed", "routed"] * 3 + ["received"] * 3
    assert enqueued.call_count == 1  # one task for the chunk, not one per event
    assert not OrderEvent.objects.filter(dispatched_at__isnull=True).exists()


def _reserving_last(channel, inputs):
    """``place_orders_reserving_last`` in a transaction of its own; the answers and the check, unreserved."""
    with transaction.atomic():
        results, check = bulk_placement.place_orders_reserving_last(channel=channel, batch=inputs, actor="system")
    return _answers(results), check


def test_a_chunk_reserving_last_gives_the_same_answers_and_rows(channel, floor, hooks):
    inputs = _inputs()
    expected_answers, expected = _rolled_back(lambda: _in_bulk(channel, inputs))

    answers, check = _reserving_last(channel, inputs)
    assert not StockItem.objects.filter(reserved__gt=0).exists()  # stored, planned, not reserved yet
    check.reserve()

    assert answers == expected_answers
    assert _state() == expected
    assert "B-4" in {a[1] for a in answers if a[0] == "placed"}  # a backorder among them


def test_reserving_last_refuses_stock_another_took_meanwhile(channel, floor, warehouse):
    _, check = _reserving_last(channel, [factories.order_input("R-1", [("TEE", 4)])])
    tee = StockItem.objects.get(product__sku="TEE", location=warehouse)
    StockItem.objects.filter(pk=tee.pk).update(reserved=F("reserved") + 3)  # another order's, committed first

    with pytest.raises(bulk_placement.StockMoved):
        check.reserve()
    tee.refresh_from_db()
    assert tee.reserved == 3  # nothing of the chunk's


def test_reserving_last_refuses_a_backorder_beside_stock_received_meanwhile(channel, floor, warehouse):
    from inventory.services import stock_receive

    answers, check = _reserving_last(channel, [factories.order_input("R-2", [("TEE", 12)])])
    assert Order.objects.get(external_id="R-2").status == "backordered"
    tee = StockItem.objects.get(product__sku="TEE", location=warehouse)
    stock_receive(product=tee.product, location=warehouse, quantity=5, reference="PO-1", actor="test")

    with pytest.raises(bulk_placement.StockMoved):
        check.reserve()  # a receipt committed meanwhile found no backorder to fill: this one must not stand


def test_reserving_last_stands_when_what_moved_still_leaves_enough(channel, floor):
    _, check = _reserving_last(channel, [factories.order_input("R-3", [("CAP", 2)])])
    cap = StockItem.objects.get(product__sku="CAP")
    StockItem.objects.filter(pk=cap.pk).update(reserved=F("reserved") + 4)  # 9 on hand: 2 + 4 still fit

    check.reserve()

    cap.refresh_from_db()
    assert cap.reserved == 6
    assert Order.objects.get(external_id="R-3").lines.get().quantity_reserved == 2


def test_reserving_last_needs_a_transaction(channel, floor):
    with (
        mock.patch.object(transaction.get_connection(), "in_atomic_block", False),
        pytest.raises(RuntimeError, match="inside a transaction"),
    ):
        bulk_placement.place_orders_reserving_last(channel=channel, batch=[], actor="system")
