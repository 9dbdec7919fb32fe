"""orders.services.backorders_allocate: arriving stock goes to waiting orders, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.celery import app as celery_app
from inventory import services as stock_services
from inventory.models import ChannelStockRule, StockItem
from orders import services
from orders.models import Order, Shipment
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee(warehouse):
    return factories.ProductFactory(sku="TEE-RED-M")


def _at(day: int) -> datetime:
    return datetime(2026, 11, day, 12, 0, tzinfo=UTC)


def _line(order: Order) -> tuple[int, int]:
    line = order.lines.get()
    return line.quantity_reserved, line.quantity_backordered


def test_stock_goes_to_the_oldest_order_first_and_partly_when_short(channel, warehouse, tee):
    # Created newest first, so the primary key order is the opposite of placement order.
    newest = factories.place(channel, "NEW", [("TEE-RED-M", 2)], placed_at=_at(20))
    middle = factories.place(channel, "MID", [("TEE-RED-M", 3)], placed_at=_at(15))
    oldest = factories.place(channel, "OLD", [("TEE-RED-M", 2)], placed_at=_at(10))
    factories.stock(tee, warehouse, 4)

    served = services.backorders_allocate(product_ids=[tee.pk])

    assert [o.pk for o in served] == [oldest.pk, middle.pk]
    for order in (oldest, middle, newest):
        order.refresh_from_db()
    assert (_line(oldest), oldest.status) == ((2, 0), Order.Status.RECEIVED)
    assert (_line(middle), middle.status) == ((2, 1), Order.Status.BACKORDERED)
    assert (_line(newest), newest.status) == ((0, 2), Order.Status.BACKORDERED)
    assert StockItem.objects.get(product=tee).reserved == 4
    assert middle.shipments.get().lines.get().quantity == 2
    assert middle.events.get(type="backorder_allocated").data == {"allocated": {"TEE-RED-M": 2}}


def test_a_partly_reserved_line_tops_up_its_pending_shipment(channel, warehouse, tee):
    factories.stock(tee, warehouse, 1)
    order = factories.place(channel, lines=[("TEE-RED-M", 3)])
    factories.stock(tee, warehouse, 5)

    services.backorders_allocate(product_ids=[tee.pk])

    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    assert _line(order) == (3, 0)
    shipment = order.shipments.get()
    assert sum(shipment.lines.values_list("quantity", flat=True)) == 3


def test_an_order_whose_first_parcel_shipped_still_gets_its_backorder(channel, warehouse, tee):
    from orders import fulfilment

    factories.stock(tee, warehouse, 1)
    order = factories.place(channel, lines=[("TEE-RED-M", 3)])
    first = order.shipments.get()
    fulfilment.shipment_ship(shipment=first, carrier="ups", tracking_number="1Z1", actor="test")
    order.refresh_from_db()
    assert order.status == Order.Status.BACKORDERED  # one unit left, two still wait

    factories.stock(tee, warehouse, 5)
    services.backorders_allocate(product_ids=[tee.pk])

    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    assert _line(order) == (2, 0)
    second = order.shipments.exclude(pk=first.pk).get()
    assert (second.status, second.lines.get().quantity) == (Shipment.Status.PENDING, 2)


def test_orders_on_hold_do_not_take_arriving_stock(channel, warehouse, tee):
    held = factories.place(channel, "HELD", [("TEE-RED-M", 1)], payment_status="pending", placed_at=_at(1))
    waiting = factories.place(channel, "WAIT", [("TEE-RED-M", 1)], placed_at=_at(2))
    factories.stock(tee, warehouse, 1)

    services.backorders_allocate(product_ids=[tee.pk])

    assert _line(held) == (0, 1)
    assert _line(waiting) == (1, 0)


def test_a_rerun_with_nothing_new_is_a_no_op(channel, warehouse, tee):
    factories.place(channel, lines=[("TEE-RED-M", 2)])
    factories.stock(tee, warehouse, 1)
    services.backorders_allocate(product_ids=[tee.pk])

    assert services.backorders_allocate(product_ids=[tee.pk]) == []
    assert StockItem.objects.get(product=tee).reserved == 1


@pytest.fixture
def celery_eager():
    """Run the allocation task in-process even with REDIS_URL set (CI); test_celery_redis.py covers a worker."""
    was = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = was


def test_an_adjustment_that_adds_stock_allocates_backorders_after_commit(
    channel, warehouse, tee, django_capture_on_commit_callbacks, celery_eager
):
    order = factories.place(channel, lines=[("TEE-RED-M", 2)])

    with django_capture_on_commit_callbacks(execute=True):
        stock_services.stock_adjust(sku="TEE-RED-M", location_code="MAIN", delta=5, reason="found", actor="user:a")

    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    assert _line(order) == (2, 0)


# --- Allocation sources as placing does: safety stock and daily capacity (orders.routing) -------------------------


def test_arriving_stock_keeps_the_channels_safety_stock_back(channel, warehouse, tee):
    ChannelStockRule.objects.create(channel=channel, location=warehouse, safety_stock=2)
    order = factories.place(channel, lines=[("TEE-RED-M", 3)])
    factories.stock(tee, warehouse, 3)

    services.backorders_allocate(product_ids=[tee.pk])

    order.refresh_from_db()
    assert _line(order) == (1, 2)  # the last 2 units stay unsold for this channel
    assert order.status == Order.Status.BACKORDERED
    assert StockItem.objects.get(product=tee).reserved == 1
    factories.stock(tee, warehouse, 2)
    services.backorders_allocate(product_ids=[tee.pk])
    assert _line(order) == (3, 0)
    assert StockItem.objects.get(product=tee).available == 2


def test_a_channel_wide_safety_rule_applies_at_every_location(channel, warehouse, tee):
    ChannelStockRule.objects.create(channel=channel, location=None, safety_stock=5)
    order = factories.place(channel, lines=[("TEE-RED-M", 1)])
    factories.stock(tee, warehouse, 5)

    assert services.backorders_allocate(product_ids=[tee.pk]) == []
    assert _line(order) == (0, 1)


@pytest.fixture
def capped(channel, warehouse, tee):
    """FAST (priority 1, one new shipment a day) is preferred to MAIN (priority 5, no limit)."""
    warehouse.priority = 5
    warehouse.save()
    fast = factories.LocationFactory(code="FAST", priority=1, daily_shipment_capacity=1)
    channel.locations.add(fast)
    return fast


def _from(order: Order) -> dict[str, int]:
    """Units per shipment location, read afresh (a placed order carries the shipments it was placed with)."""
    shipments = Shipment.objects.filter(order=order).exclude(status="cancelled").select_related("location")
    return {s.location.code: sum(s.lines.values_list("quantity", flat=True)) for s in shipments}


def test_shipments_this_run_opens_count_towards_daily_capacity(channel, warehouse, tee, capped):
    first = factories.place(channel, "FIRST", [("TEE-RED-M", 1)], placed_at=_at(1))
    second = factories.place(channel, "SECOND", [("TEE-RED-M", 1)], placed_at=_at(2))
    factories.stock(tee, capped, 5)
    factories.stock(tee, warehouse, 5)

    services.backorders_allocate(product_ids=[tee.pk])

    assert _from(first) == {"FAST": 1}  # the oldest takes the preferred location's only shipment today
    assert _from(second) == {"MAIN": 1}


def test_a_location_at_capacity_today_opens_no_shipment_for_a_backorder(channel, warehouse, tee, capped):
    factories.stock(tee, capped, 1)
    today = factories.place(channel, "TODAY", [("TEE-RED-M", 1)], placed_at=_at(1))  # FAST's one shipment
    waiting = factories.place(channel, "WAIT", [("TEE-RED-M", 2)], placed_at=_at(2))
    factories.stock(tee, capped, 5)

    assert services.backorders_allocate(product_ids=[tee.pk]) == []  # FAST is full, MAIN has nothing
    factories.stock(tee, warehouse, 2)
    services.backorders_allocate(product_ids=[tee.pk])

    assert _from(today) == {"FAST": 1}
    assert _from(waiting) == {"MAIN": 2}


def test_a_location_at_capacity_still_tops_up_the_orders_own_pending_shipment(channel, warehouse, tee, capped):
    factories.stock(tee, capped, 1)
    order = factories.place(channel, lines=[("TEE-RED-M", 3)])  # 1 from FAST (its one shipment today), 2 wait
    factories.stock(tee, capped, 5)
    factories.stock(tee, warehouse, 5)

    services.backorders_allocate(product_ids=[tee.pk])

    assert _line(order) == (3, 0)
    assert _from(order) == {"FAST": 3}
    assert Shipment.objects.filter(order=order).count() == 1
