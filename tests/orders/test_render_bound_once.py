"""Orders render through fields bound once per serializer class (FieldsBuiltOnce): the same answer as DRF's own
render through fields built for each serializer, for orders in every state the API shows."""

from decimal import Decimal

import pytest

from orders import fulfilment, services
from orders.api import serializers
from orders.selectors import order_list
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(channel, warehouse):
    """Received, shipped and delivered, cancelled, backordered, on hold, with a null price and a null date."""
    factories.stock(factories.ProductFactory(sku="TEE-RED-M", name="Tee red M"), warehouse, 10)
    factories.stock(factories.ProductFactory(sku="MUG-1", name="Mug", price=Decimal("7.50")), warehouse, 1)
    received = factories.place(channel, "R-RECEIVED", [("TEE-RED-M", 2)])
    delivered = factories.place(channel, "R-DELIVERED", [("TEE-RED-M", 1), ("MUG-1", 1)])
    shipment = delivered.shipments.get()
    fulfilment.shipment_ship(shipment=shipment, carrier="ups", tracking_number="1Z999", actor="test")
    fulfilment.shipment_deliver(shipment=shipment, actor="test")
    cancelled = factories.place(channel, "R-CANCELLED", [("TEE-RED-M", 1)])
    services.cancel_order(order=cancelled, reason="changed mind", actor="test")
    backordered = factories.place(channel, "R-BACKORDER", [("MUG-1", 3)])
    unpaid = factories.place(channel, "R-UNPAID", [("TEE-RED-M", 1)], payment_status="pending")
    placed = [received, delivered, cancelled, backordered, unpaid]
    return placed, list(order_list().filter(pk__in=[o.pk for o in placed]).order_by("pk"))


def _drf_render(monkeypatch, rows) -> list[dict]:
    """What DRF's own ``to_representation`` renders for the same rows (fields built and bound per serializer)."""
    with monkeypatch.context() as patched:
        patched.delattr(serializers.FieldsBuiltOnce, "to_representation")
        return [dict(serializers.OrderSerializer(row).data) for row in rows]


def test_orders_render_as_drf_renders_them(orders, monkeypatch):
    placed, stored = orders
    rendered = [dict(serializers.OrderSerializer(row).data) for row in stored]

    assert rendered == _drf_render(monkeypatch, stored)
    assert {r["status"] for r in rendered} >= {"received", "delivered", "cancelled", "backordered", "on_hold"}
    assert any(s["delivered_at"] for r in rendered for s in r["shipments"])  # dates and nulls both rendered
    assert any(r["hold_reason"] for r in rendered)  # a hold reason shown, and none shown
    assert not all(r["hold_reason"] for r in rendered)


def test_a_new_order_renders_as_drf_renders_it(orders, monkeypatch):
    """place_order keeps the rows it wrote on the order: rendered from those, the same answer."""
    placed, _ = orders
    fresh = [p for p in placed if p.external_id in {"R-RECEIVED", "R-BACKORDER"}]
    assert [dict(serializers.OrderSerializer(o).data) for o in fresh] == _drf_render(monkeypatch, fresh)


def test_the_list_renders_many_orders_as_drf_does(orders, monkeypatch):
    _, stored = orders
    many = serializers.OrderSerializer(stored, many=True).data
    assert [dict(o) for o in many] == _drf_render(monkeypatch, stored)


def test_a_line_given_as_a_mapping_renders_as_drf_renders_it(orders, monkeypatch):
    """Columns are read as attributes of the model's instances; anything else (a dict) as DRF reads it."""
    _, stored = orders
    line = stored[0].lines.all()[0]
    as_dict = {f.attname: getattr(line, f.attname) for f in line._meta.concrete_fields}
    ours = [dict(serializers.OrderLineSerializer(x).data) for x in (line, as_dict)]
    with monkeypatch.context() as patched:
        patched.delattr(serializers.FieldsBuiltOnce, "to_representation")
        drf = [dict(serializers.OrderLineSerializer(x).data) for x in (line, as_dict)]
    assert ours == drf
    assert ours[0] == ours[1]
