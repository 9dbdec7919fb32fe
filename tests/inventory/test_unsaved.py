"""inventory.bulk.unsaved builds the instance ``Model(**values)`` builds (bulk placement makes rows by the thousand)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db.models.signals import post_init

from channels_app.models import InboundOrder
from inventory import bulk
from orders.models import Customer, Order, OrderEvent, OrderLine, Shipment, ShipmentLine
from tests import factories

pytestmark = pytest.mark.django_db


def _same(model, **values):
    made, built = model(**values), bulk.unsaved(model, **values)
    assert type(built) is model
    assert built.__dict__.keys() - {"_state"} == made.__dict__.keys() - {"_state"}
    for name in made.__dict__.keys() - {"_state"}:
        assert built.__dict__[name] == made.__dict__[name], name
    assert built._state.adding
    assert built._state.db is None
    assert built.pk is None
    assert built._state.fields_cache.keys() == made._state.fields_cache.keys()
    for name, cached in made._state.fields_cache.items():
        assert built._state.fields_cache[name] is cached
    return built


def test_every_row_bulk_placement_builds_is_the_same_instance(channel, warehouse):
    customer = Customer.objects.create(email="u@example.com", name="U")
    product = factories.ProductFactory(sku="TEE")
    item = factories.stock(product, warehouse, 5)
    at = datetime(2026, 11, 20, 14, 3, tzinfo=UTC)
    order = _same(
        Order,
        channel=channel,
        customer=customer,
        external_id="U-1",
        placed_at=at,
        currency="USD",
        ship_name="A Buyer",
        ship_line1="1 Main St",
        ship_city="Springfield",
        ship_postal_code="62701",
        ship_country="us",  # set through the country field's own descriptor: cleaned as Model() does
        subtotal=Decimal("9.90"),
        total=Decimal("9.90"),
        fingerprint="f",
    )
    assert order.ship_country.code == "US"
    assert order.customer is customer
    assert order.status == "placed"
    line = _same(OrderLine, order=order, product=product, sku="TEE", name="Tee", quantity=2, unit_price=Decimal("1"))
    assert line.order is order
    assert line.order_id is None
    shipment = _same(Shipment, order=order, location_id=warehouse.pk, fulfillment="own")
    _same(ShipmentLine, shipment=shipment, order_line=line, stock_item=item, quantity=2)
    event = _same(OrderEvent, order=order, type="placed", at=at, actor="system", data={"a": 1})
    assert event.data == {"a": 1}
    _same(InboundOrder, channel=channel, way_in="file", format="csv", external_id="U-1", payload={}, digest="d")


def test_an_unknown_field_is_refused_as_model_does(channel):
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        bulk.unsaved(Order, channel=channel, nope=1)


def test_with_an_init_receiver_the_model_itself_builds_it(channel):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=OrderEvent)
    try:
        event = bulk.unsaved(OrderEvent, type="note", actor="t", at=datetime(2026, 1, 1, tzinfo=UTC))
    finally:
        post_init.disconnect(receiver, sender=OrderEvent)
    assert seen == [event]


def test_the_same_keywords_again_build_from_what_was_worked_out_once(channel, warehouse):
    """The second build with the same keyword names reuses its plan: each value is still its own."""
    customer = Customer.objects.create(email="u@example.com", name="U")
    order = factories.order_row(channel, customer, "U-2")
    first = _same(Shipment, order=order, location_id=warehouse.pk, fulfillment="own", pick_list=None)
    again = _same(Shipment, order=None, location_id=warehouse.pk + 1, fulfillment="partner", pick_list=None)
    assert (first.order, first.location_id) == (order, warehouse.pk)
    assert (again.order_id, again.location_id) == (None, warehouse.pk + 1)
    for _ in range(2):  # refused each time: a plan is kept only for names it knows
        with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
            bulk.unsaved(Order, channel=channel, nope=1)


def test_a_related_object_and_its_key_together_are_refused(channel):
    with pytest.raises(TypeError, match="not both"):
        bulk.unsaved(Order, channel=channel, channel_id=channel.pk)
