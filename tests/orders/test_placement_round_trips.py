"""On PostgreSQL placing an order costs a pinned number of round trips, whatever its line count: the reads
before the stock lock in one, the lock with the new rows' keys in one, every write in one (inventory.bulk)."""

from __future__ import annotations

import pytest
from django.db import connection

from orders import services
from orders.errors import InvalidInput
from orders.models import Customer, Order, ShipmentLine
from tests import factories
from tests.inventory.test_write_batch import round_trips

pytestmark = pytest.mark.django_db

PLACING = [
    ["SAVEPOINT"],  # the test's transaction around place_order's (BEGIN outside one)
    ["SELECT", "SELECT", "SELECT"],  # products, customer (found or inserted), locations with safety stock
    ["SELECT", "SELECT"],  # stock rows locked, keys of the order and its lines
    ["INSERT", "INSERT", "UPDATE", "INSERT", "INSERT", "INSERT"],  # order, lines, reserve, shipment, its lines, events
    ["RELEASE"],  # (COMMIT outside one)
]


@pytest.mark.postgres
@pytest.mark.parametrize("n", [1, 20], ids=["1-line", "20-lines"])
def test_placing_an_order_costs_the_same_round_trips_for_1_and_20_lines(channel, warehouse, n):
    skus = [f"RT-{i:02d}" for i in range(n)]
    for sku in skus:
        factories.stock(factories.ProductFactory(sku=sku), warehouse, 3)
    data = factories.order_input(f"RT-{n}", [(sku, 2) for sku in skus], email=f"rt{n}@example.com")
    connection.ensure_connection()

    with round_trips() as trips:
        order, created = services.place_order(channel=channel, data=data, actor="test")

    assert created
    assert trips == PLACING
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.lines.count(), stored.events.count()) == ("received", n, 3)
    assert sorted(ShipmentLine.objects.filter(shipment__order=order).values_list("order_line_id", flat=True)) == [
        line.pk for line in order.lines.order_by("pk")
    ]


@pytest.mark.postgres
def test_a_retry_is_answered_from_the_stored_order(channel, warehouse):
    factories.stock(factories.ProductFactory(sku="RT-AGAIN"), warehouse, 3)
    data = factories.order_input("RT-AGAIN", [("RT-AGAIN", 1)])
    first, _ = services.place_order(channel=channel, data=data, actor="test")
    connection.ensure_connection()

    with round_trips() as trips:
        again, created = services.place_order(channel=channel, data=data, actor="test")

    assert (again.pk, created) == (first.pk, False)
    # The batched writes refused whole by the order's unique key (no statement completes), rolled back,
    # then the stored order read.
    assert trips == [*PLACING[:3], [], ["ROLLBACK"], ["RELEASE"], ["SELECT"]]
    assert Order.objects.count() == 1


def test_a_retry_refused_for_a_retired_sku_keeps_no_customer_its_reads_made(channel, warehouse):
    """The reads make a customer unknown by that e-mail (PostgreSQL): a retry answered though its SKU was
    retired writes nothing, not even that customer."""
    product = factories.ProductFactory(sku="RT-RETIRED")
    factories.stock(product, warehouse, 3)
    data = factories.order_input("RT-RETRY", [("RT-RETIRED", 1)], email="first@example.com")
    placed, _ = services.place_order(channel=channel, data=data, actor="test")
    Customer.objects.filter(pk=placed.customer_id).update(email="renamed@example.com")  # staff fixed it
    product.active = False
    product.save()

    again, created = services.place_order(channel=channel, data=data, actor="test")

    assert (again.pk, created) == (placed.pk, False)
    assert not Customer.objects.filter(email="first@example.com").exists()
    refused = factories.order_input("RT-NEW", [("RT-RETIRED", 1)], email="new@example.com")
    with pytest.raises(InvalidInput):  # a new order of it is refused, and keeps no customer either
        services.place_order(channel=channel, data=refused, actor="test")
    assert not Customer.objects.filter(email="new@example.com").exists()


def test_values_that_look_like_sql_or_placeholders_are_stored_as_sent(channel, warehouse):
    """The write batch binds each statement before joining them: a value's %, ; or quote is only a value."""
    factories.stock(factories.ProductFactory(sku="TEE"), warehouse, 10)
    notes = "100% cotton; %s %(x)s '); DROP TABLE orders_order; --"
    order = factories.place(channel, "P%s-1%;'", lines=[("TEE", 1)], notes=notes)
    stored = Order.objects.get(pk=order.pk)
    assert (stored.external_id, stored.notes) == ("P%s-1%;'", notes)
    assert stored.lines.get().quantity_reserved == 1
