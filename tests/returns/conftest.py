"""Returns test data: orders shipped and delivered through the real services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from orders import fulfilment
from tests import factories


def ship_order(order, *, delivered_days_ago: int | None = None):
    """Ship every pending shipment of ``order`` (and deliver it ``delivered_days_ago`` days ago, if given)."""
    for shipment in order.shipments.filter(status="pending").order_by("id"):
        fulfilment.shipment_ship(shipment=shipment, carrier="manual", tracking_number=f"TRK{shipment.pk}", actor="test")
        if delivered_days_ago is not None:
            fulfilment.shipment_deliver(
                shipment=shipment, actor="test", delivered_at=timezone.now() - timedelta(days=delivered_days_ago)
            )
    order.refresh_from_db()
    return order


@pytest.fixture
def tee(warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M", name="Tee red M", price="19.90", cost="8.00", barcode="400100")
    factories.stock(product, warehouse, 10, bin="A-01")
    return product


@pytest.fixture
def mug(warehouse):
    product = factories.ProductFactory(sku="MUG-1", name="Mug", price="9.50", cost="3.00", barcode="400200")
    factories.stock(product, warehouse, 10, bin="B-01")
    return product


@pytest.fixture
def delivered_order(channel, tee, mug):
    """SO with 2 tees at 19.90 and 1 mug at 9.50, shipped and delivered two days ago."""
    order = factories.place(channel, "WEB-1", lines=[("TEE-RED-M", 2), ("MUG-1", 1)])
    return ship_order(order, delivered_days_ago=2)
