"""On PostgreSQL placing an order costs a pinned number of round trips, whatever its line count: the reads,
the stock lock and the new rows' keys in one, every write in one, with the COMMIT when placing is the
outermost transaction (inventory.bulk)."""

from __future__ import annotations

import psycopg
import pytest
from django.db import DataError, connection, transaction

from orders import services
from orders.errors import InvalidInput
from orders.models import Customer, Order, ShipmentLine
from tests import factories
from tests.inventory.test_write_batch import round_trips

pytestmark = pytest.mark.django_db

READS = ["SELECT"] * 5  # products, customer (found or inserted), locations with safety stock, stock locked, keys
WRITES = ["INSERT", "INSERT", "UPDATE", "INSERT", "INSERT", "INSERT"]  # order, lines, reserve, shipment + lines, events
PLACING = [
    ["SAVEPOINT"],  # the test's transaction around place_order's (BEGIN outside one)
    READS,
    WRITES,
    ["RELEASE"],  # inside another transaction the writes commit nothing
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
    assert trips == [*PLACING[:2], [], ["ROLLBACK"], ["RELEASE"], ["SELECT"]]
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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_placing_as_the_outermost_transaction_commits_with_its_writes(channel, warehouse):
    """Two round trips in all: the BEGIN with the reads and the lock, the writes with the COMMIT. What runs on
    commit still runs once, after the commit: another connection sees the order then."""
    stock = factories.stock(factories.ProductFactory(sku="RT-TOP"), warehouse, 5)
    data = factories.order_input("RT-TOP", [("RT-TOP", 2)], email="top@example.com")
    seen_elsewhere = []

    def on_commit(order):
        with psycopg.connect(**connection.get_connection_params()) as other:
            seen_elsewhere.append(other.execute("SELECT status FROM orders_order WHERE id = %s", [order.pk]).fetchall())
        return "SELECT 1", ()

    def also(order, writes):
        transaction.on_commit(lambda: on_commit(order))
        writes.execute("SELECT %s", [order.external_id])

    connection.ensure_connection()
    with round_trips() as trips:
        order, created = services.place_order(channel=channel, data=data, actor="test", also=also)

    assert created
    assert not connection.in_atomic_block
    assert trips[:2] == [["BEGIN", *READS], [*WRITES, "SELECT", "COMMIT"]]  # then the hooks' own (the outbox)
    assert seen_elsewhere == [[("received",)]]
    stock.refresh_from_db()
    assert stock.reserved == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failed_write_commits_nothing(channel, warehouse):
    """The outermost placement's writes fail (a refused outcome statement): nothing is stored or reserved."""
    stock = factories.stock(factories.ProductFactory(sku="RT-FAIL"), warehouse, 5)
    data = factories.order_input("RT-FAIL", [("RT-FAIL", 2)], email="fail@example.com")

    with pytest.raises(DataError):
        services.place_order(
            channel=channel, data=data, actor="test", also=lambda order, writes: writes.execute("SELECT 1/0")
        )

    stock.refresh_from_db()
    assert (Order.objects.filter(external_id="RT-FAIL").exists(), stock.reserved) == (False, 0)
    assert not connection.in_atomic_block
