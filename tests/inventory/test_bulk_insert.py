"""inventory.bulk.insert_many writes what bulk_create writes (COPY on PostgreSQL from 100 rows, one INSERT below)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from inventory import bulk
from orders.models import Customer, Order, OrderEvent, OrderStatus
from tests import factories

pytestmark = pytest.mark.django_db

COMPARED = [
    "channel_id", "external_id", "customer_id", "status", "placed_at", "currency", "ship_name", "ship_country",
    "ship_postal_code", "subtotal", "total", "notes", "fingerprint",
]  # fmt: skip


def _orders(channel, customer, prefix: str, n: int) -> list[Order]:
    return [
        factories.order_row(
            channel,
            customer,
            f"{prefix}-{i}",
            status=OrderStatus.RECEIVED,  # a choices member: stored as its value
            subtotal=Decimal("39.80"),
            total=Decimal("39.80"),
            notes="tab\there, new\nline, back\\slash",  # COPY's text format escapes these
            fingerprint=f"f{i}",
        )
        for i in range(n)
    ]


def _rows(prefix: str) -> list[dict]:
    rows = Order.objects.filter(external_id__startswith=f"{prefix}-").order_by("pk").values(*COMPARED)
    return [{**row, "external_id": row["external_id"].split("-", 1)[1]} for row in rows]


@pytest.mark.parametrize("n", [1, 3, bulk.COPY_FROM], ids=["one-row", "small-batch", "copy"])
def test_the_same_rows_as_bulk_create_with_keys_dates_json_and_parents(channel, n):
    customer = Customer.objects.create(email="bulk@example.com", name="A Buyer")
    with CaptureQueriesContext(connection) as written:
        by_copy = bulk.insert_many(Order, _orders(channel, customer, "C", n))
    if connection.vendor == "postgresql":  # the path this case is about, not bulk_create's
        assert ("COPY" if n >= bulk.COPY_FROM else "VALUES (") in written.captured_queries[-1]["sql"]
    Order.objects.bulk_create(_orders(channel, customer, "B", n))

    assert _rows("C") == _rows("B")
    assert [o.pk for o in by_copy] == list(
        Order.objects.filter(external_id__startswith="C-").order_by("pk").values_list("pk", flat=True)
    )
    assert all(not o._state.adding for o in by_copy)
    assert all(o.updated_at is not None for o in Order.objects.filter(external_id__startswith="C-"))  # auto_now

    # Children built with their parent before it had a key (as bulk_placement builds them).
    events = [OrderEvent(order=o, type="placed", at=o.placed_at, actor="t", data={"n": i, "s": "a'b\"c"})
              for i, o in enumerate(_orders(channel, customer, "P", n))]  # fmt: skip
    bulk.insert_many(Order, [e.order for e in events])
    bulk.insert_many(OrderEvent, events)
    with CaptureQueriesContext(connection) as read:  # the parents stay on the children, as bulk_create leaves them
        assert all(e.order.external_id.startswith("P-") and e.order_id == e.order.pk for e in events)
    assert not read.captured_queries
    stored = list(OrderEvent.objects.filter(order__external_id__startswith="P-").order_by("pk"))
    assert [(e.pk, e.order_id, e.data) for e in stored] == [
        (e.pk, e.order.pk, {"n": i, "s": "a'b\"c"}) for i, e in enumerate(events)
    ]


@pytest.mark.parametrize("n", [2, bulk.COPY_FROM], ids=["small-batch", "copy"])
def test_a_duplicate_is_an_integrity_error_and_nothing_is_written(channel, n):
    customer = Customer.objects.create(email="bulk@example.com", name="A Buyer")
    orders = _orders(channel, customer, "D", n)
    orders[-1].external_id = orders[0].external_id  # (channel, external_id) is unique
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_many(Order, orders)
    assert not Order.objects.filter(external_id__startswith="D-").exists()


def test_a_child_of_an_unsaved_parent_is_refused_as_bulk_create_refuses_it(channel):
    customer = Customer.objects.create(email="bulk@example.com", name="A Buyer")
    (order,) = _orders(channel, customer, "U", 1)
    event = OrderEvent(order=order, type="placed", at=order.placed_at, actor="t", data={})
    with pytest.raises(ValueError, match="unsaved related object"):
        bulk.insert_many(OrderEvent, [event])
    assert not OrderEvent.objects.exists()


JSON_VALUES = [
    {"nested": {"list": [1, 2.5, None, True, "é ü 中", "tab\there"], "empty": {}}, "tiny": 1e-7, "big": 12345678901234},
    {"past 64 bits": 2**70, "a float like a price": 19.9},  # orjson refuses 2**70: json writes it
    {1: "a key that is not a string", "2": "json writes the 1 as a string"},
    ["a list at the top", {"k": "v"}],
    {},
]


@pytest.mark.parametrize("n", [3, bulk.COPY_FROM], ids=["small-batch", "copy"])
def test_json_values_are_stored_as_bulk_create_stores_them(channel, n):
    customer = Customer.objects.create(email="bulk@example.com", name="A Buyer")
    orders = _orders(channel, customer, "J", 1)
    bulk.insert_many(Order, orders)

    def events(prefix):
        return [
            OrderEvent(order=orders[0], type=f"{prefix}{i}", at=orders[0].placed_at, actor="t", data=JSON_VALUES[i % 5])
            for i in range(n)
        ]

    bulk.insert_many(OrderEvent, events("c"))
    OrderEvent.objects.bulk_create(events("b"))
    stored = {e.type: e.data for e in OrderEvent.objects.filter(order=orders[0])}
    assert [stored[f"c{i}"] for i in range(n)] == [stored[f"b{i}"] for i in range(n)]
    assert stored["c2"] == {"1": "a key that is not a string", "2": "json writes the 1 as a string"}
    assert stored["c1"]["past 64 bits"] == 2**70
    assert stored["c0"]["tiny"] == 1e-7


@pytest.mark.parametrize("n", [3, bulk.COPY_FROM], ids=["small-batch", "copy"])
def test_a_value_json_refuses_is_refused_and_nothing_is_written(channel, n):
    from datetime import UTC, datetime

    customer = Customer.objects.create(email="bulk@example.com", name="A Buyer")
    (order,) = bulk.insert_many(Order, _orders(channel, customer, "R", 1))
    events = [OrderEvent(order=order, type="x", at=order.placed_at, actor="t", data={"n": i}) for i in range(n)]
    events[-1].data = {"at": datetime(2026, 11, 27, tzinfo=UTC)}  # the field has no encoder: json refuses a date
    with pytest.raises(TypeError), transaction.atomic():
        OrderEvent.objects.bulk_create(events)
    with pytest.raises(TypeError), transaction.atomic():
        bulk.insert_many(OrderEvent, events)
    assert not OrderEvent.objects.filter(order=order).exists()


@pytest.mark.parametrize("n", [5, bulk.COPY_FROM], ids=["small-batch", "copy"])
def test_a_country_is_stored_as_its_field_reads_it_whatever_form_it_was_given_in(channel, n):
    """The country field's descriptor turns "us", "USA" or "840" into "US" when read; insert_many prepares
    each stored form once and must store what it reads, as bulk_create does."""
    customer = Customer.objects.create(email="bulk@example.com", name="A Buyer")
    given = ["US", "us", "USA", "840", "DE", "XX"]

    def rows(prefix):
        orders = _orders(channel, customer, prefix, n)
        for i, order in enumerate(orders):
            order.ship_country = given[i % len(given)]
        return orders

    bulk.insert_many(Order, rows("K"))
    Order.objects.bulk_create(rows("L"))
    assert _rows("K") == _rows("L")
    countries = [row["ship_country"] for row in _rows("K")]
    assert countries[: min(n, 6)] == ["US", "US", "US", "US", "DE", "XX"][:n]
