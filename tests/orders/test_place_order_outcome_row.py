"""place_order inserts the order with its outcome status (no UPDATE after) unless a hold check holds it.

What is stored, the instance returned and the timeline must be what moving the order after the checks gave.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from orders import services
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee(warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M", price=Decimal("10.00"))
    factories.stock(product, warehouse, 3)
    return product


def _place(channel, data):
    order, created = services.place_order(channel=channel, data=data, actor="test")
    assert created
    stored = Order.objects.get(pk=order.pk)
    fields = ("status", "hold_reason", "received_at", "cancelled_at", "updated_at")
    assert {f: getattr(stored, f) for f in fields} == {f: getattr(order, f) for f in fields}  # the answer is the row
    return stored, list(stored.events.values_list("type", "at", "data"))


def _bad_address(data):
    return replace(data, shipping_address=replace(data.shipping_address, postal_code="6270"))


def test_a_received_order_is_stamped_with_its_event_time(channel, tee):
    order, events = _place(channel, factories.order_input("R-1", [("TEE-RED-M", 2)]))
    assert [t for t, _, _ in events] == ["placed", "routed", "received"]
    assert order.status == "received"
    assert order.received_at == events[-1][1]


def test_a_backordered_order(channel, tee):
    order, events = _place(channel, factories.order_input("B-1", [("TEE-RED-M", 5)]))
    assert (order.status, order.received_at) == ("backordered", None)
    assert [t for t, _, _ in events] == ["placed", "routed", "backordered"]
    assert events[-1][2] == {"backordered": {"TEE-RED-M": 2}}


def test_an_order_a_check_holds_is_stored_on_hold_never_received(channel, tee):
    order, events = _place(channel, _bad_address(factories.order_input("H-1", [("TEE-RED-M", 1)])))
    assert (order.status, order.hold_reason, order.received_at) == ("on_hold", "address_invalid", None)
    assert [t for t, _, _ in events] == ["placed", "routed", "address_check_failed", "on_hold"]
    assert events[-1][2] == {"reason": "address_invalid"}


def test_an_unpaid_order_a_check_would_hold_stays_held_for_payment_after_the_checks_event(channel, tee):
    data = _bad_address(factories.order_input("P-1", [("TEE-RED-M", 1)], payment_status="pending"))
    order, events = _place(channel, data)
    assert (order.status, order.hold_reason, order.received_at) == ("on_hold", "payment_pending", None)
    assert [t for t, _, _ in events] == ["placed", "routed", "address_check_failed", "on_hold"]
    assert events[-1][2] == {"reason": "payment_pending"}


def test_an_order_with_every_unit_refused_is_stored_cancelled(channel, tee):
    channel.backorder_policy = "reject"
    channel.save(update_fields=["backorder_policy"])
    factories.ProductFactory(sku="NONE")
    order, events = _place(channel, factories.order_input("C-1", [("NONE", 1)]))
    assert (order.status, order.received_at) == ("cancelled", None)
    assert order.cancelled_at == events[-1][1]
    assert [t for t, _, _ in events] == ["placed", "routed", "cancelled"]
    assert events[-1][2]["reason"] == "out_of_stock"


def test_channel_locations_read_safety_stock_as_safety_stock_for_does(channel, warehouse, django_assert_num_queries):
    from inventory.models import ChannelStockRule
    from orders import routing

    other, third = factories.LocationFactory(code="OTHER", priority=2), factories.LocationFactory(code="THIRD")
    closed = factories.LocationFactory(code="CLOSED", active=False)
    channel.locations.add(other, third, closed)
    elsewhere = factories.LocationFactory(code="NOT-OURS")
    ChannelStockRule.objects.create(channel=channel, location=None, safety_stock=2)  # the default
    ChannelStockRule.objects.create(channel=channel, location=warehouse, safety_stock=0)  # none here
    ChannelStockRule.objects.create(channel=channel, location=third, safety_stock=5)
    ChannelStockRule.objects.create(channel=channel, location=closed, safety_stock=7)
    ChannelStockRule.objects.create(channel=factories.ChannelFactory(code="OTHERCH"), location=other, safety_stock=9)

    with django_assert_num_queries(1):
        locations, safety = routing.channel_locations(channel)
    assert locations == list(channel.locations.filter(active=True))  # the same rows, in the same order
    assert safety == routing.safety_stock_for(channel=channel, location_ids=[loc.pk for loc in locations])
    assert safety == {other.pk: 2, third.pk: 5}
    assert elsewhere not in locations
    assert not hasattr(locations[0], "own_safety")


def test_a_known_customer_is_found_as_stored_and_a_new_one_created_once(channel, tee):
    from orders.models import Customer

    known = Customer.objects.create(email="known@example.com", name="Stored name", kind="business")
    sent = factories.order_input("K-1", [("TEE-RED-M", 1)], email="Known@Example.com")
    order, _ = services.place_order(channel=channel, data=sent, actor="t")
    assert order.customer == known
    assert (order.customer.name, order.customer.kind, order.customer.created_at) == (
        "Stored name",
        "business",
        known.created_at,
    )
    assert not order.customer._state.adding

    new, _ = services.place_order(
        channel=channel, data=factories.order_input("N-1", email="new@example.com"), actor="t"
    )
    assert (new.customer.pk, new.customer.email, new.customer.name) == (known.pk + 1, "new@example.com", "Ana")
    assert Customer.objects.get(email="new@example.com").pk == new.customer.pk  # no id drawn for the known one
    again, _ = services.place_order(
        channel=channel, data=factories.order_input("N-2", email="new@example.com"), actor="t"
    )
    assert again.customer.pk == new.customer.pk
    assert Customer.objects.count() == 2


def test_the_stock_lock_with_known_locations_reads_what_the_orm_reads(channel, warehouse, tee):
    from inventory import locks

    other = factories.LocationFactory(code="OTHER")
    mug = factories.ProductFactory(sku="MUG")
    for product, location, units in [(mug, other, 4), (tee, other, 2), (mug, warehouse, 1)]:
        factories.stock(product, location, units)
    factories.stock(factories.ProductFactory(sku="ELSE"), warehouse, 9)  # another product: not locked
    wanted = {"product_ids": {tee.pk, mug.pk}, "location_ids": [warehouse.pk, other.pk]}

    joined = locks.stock_items_lock(**wanted)
    known = locks.stock_items_lock(**wanted, locations={warehouse.pk: warehouse, other.pk: other})

    def fields(item):
        return {f.attname: getattr(item, f.attname) for f in item._meta.concrete_fields}

    assert [fields(i) for i in known] == [fields(i) for i in joined]
    assert [i.pk for i in known] == sorted(i.pk for i in known)
    assert len(known) == 4
    assert all(i.location is {warehouse.pk: warehouse, other.pk: other}[i.location_id] for i in known)
    assert locks.stock_items_lock(product_ids=[tee.pk], location_ids=[], locations={}) == []


def test_the_rendered_ship_to_is_what_the_address_serializer_renders(channel, tee):
    from orders.api.serializers import AddressSerializer, OrderSerializer

    data = factories.order_input("A-1", [("TEE-RED-M", 1)])
    data = replace(data, shipping_address=replace(data.shipping_address, line2="Apt 4", country="us"))
    order, _ = services.place_order(channel=channel, data=data, actor="t")
    sent = {k: getattr(order, f"ship_{k}") for k in ("name", "line1", "line2", "city", "region", "postal_code")}
    expected = AddressSerializer({**sent, "country": str(order.ship_country)}).data
    rendered = OrderSerializer(order).data["shipping_address"]
    assert list(rendered.items()) == list(expected.items())
    assert rendered["country"] == "US"
