"""orders.services.backorders_allocate: arriving stock goes to waiting orders, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.celery import app as celery_app
from inventory import services as stock_services
from inventory.models import StockItem
from orders import services
from orders.models import Order
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
