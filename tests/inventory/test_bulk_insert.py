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
