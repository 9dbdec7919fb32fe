"""orders.services.cancel_order: releases every reservation; refused once anything shipped."""

from __future__ import annotations

import pytest

from inventory.models import StockItem
from orders import fulfilment, services
from orders.errors import AlreadyShipped, InvalidTransition
from orders.models import Order, Shipment
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def products(channel, warehouse):
    second = factories.LocationFactory(code="3PL", priority=5, kind="third_party")
    channel.locations.add(second)
    tee = factories.ProductFactory(sku="TEE-RED-M")
    mug = factories.ProductFactory(sku="MUG")
    factories.stock(tee, warehouse, 3)
    factories.stock(tee, second, 4)
    factories.stock(mug, warehouse, 10)
    return tee, mug


def _reserved() -> dict[tuple[str, str], int]:
    return {
        (item.product.sku, item.location.code): item.reserved
        for item in StockItem.objects.select_related("product", "location")
    }


def test_cancel_releases_every_reservation_and_cancels_the_shipments(channel, products):
    before = _reserved()
    order = factories.place(channel, lines=[("TEE-RED-M", 9), ("MUG", 2)])  # 3 + 4 reserved, 2 backordered
    assert _reserved() != before

    cancelled = services.cancel_order(order=order, reason="customer request", actor="user:alice")

    assert cancelled.status == Order.Status.CANCELLED
    assert cancelled.cancelled_at is not None
    assert _reserved() == before
    assert set(order.shipments.values_list("status", flat=True)) == {Shipment.Status.CANCELLED}
    assert list(order.lines.values_list("quantity_reserved", "quantity_backordered")) == [(0, 0), (0, 0)]
    event = order.events.get(type="cancelled")
    assert (event.actor, event.data) == ("user:alice", {"reason": "customer request"})
    assert order.events.filter(type="shipment.cancelled").count() == 2


def test_cancel_of_an_order_on_hold_releases_its_stock(channel, products):
    order = factories.place(channel, lines=[("MUG", 4)], payment_status="pending")

    services.cancel_order(order=order, reason="never paid", actor="system")

    assert _reserved()[("MUG", "MAIN")] == 0


def test_cancel_after_a_shipment_shipped_is_refused_and_changes_nothing(channel, products):
    order = factories.place(channel, lines=[("TEE-RED-M", 5)])  # MAIN 3, 3PL 2
    first = order.shipments.get(location__code="MAIN")
    fulfilment.shipment_ship(shipment=first, carrier="manual", tracking_number="1Z1", actor="test")
    reserved = _reserved()

    with pytest.raises(AlreadyShipped) as exc_info:
        services.cancel_order(order=order, reason="too late", actor="test")

    assert exc_info.value.code == "already_shipped"
    order.refresh_from_db()
    assert order.status != Order.Status.CANCELLED
    assert _reserved() == reserved
    assert order.shipments.get(location__code="3PL").status == Shipment.Status.PENDING


def test_cancelling_twice_is_an_invalid_transition(channel, products):
    order = factories.place(channel, lines=[("MUG", 1)])
    services.cancel_order(order=order, reason="", actor="test")

    with pytest.raises(InvalidTransition) as exc_info:
        services.cancel_order(order=order, reason="", actor="test")

    assert exc_info.value.code == "invalid_transition"
    assert order.events.filter(type="cancelled").count() == 1


def test_a_cancelled_backorder_no_longer_waits_for_stock(channel, warehouse):
    product = factories.ProductFactory(sku="SOON")
    order = factories.place(channel, lines=[("SOON", 2)])
    services.cancel_order(order=order, reason="", actor="test")
    factories.stock(product, warehouse, 5)

    assert services.backorders_allocate(product_ids=[product.pk]) == []
    assert StockItem.objects.get(product=product).reserved == 0
