"""inventory.bulk.insert_many writes what bulk_create writes (COPY on PostgreSQL from 100 rows, one INSERT below)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from inventory import bulk
from orders.models import Customer, Order, OrderEvent, OrderLine, OrderStatus
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


# A value of the wrong class for its column, as code may leave on an instance: bulk_create converts it, PostgreSQL
# reads its text. Binary COPY would misread or refuse it, so the whole insert goes as text, stored as bulk_create
# stores it.
ODD_ORDER_VALUES = {
    "naive placed_at": ("placed_at", datetime(2026, 11, 20, 14, 3)),  # noqa: DTZ001
    "placed_at in another zone": ("placed_at", datetime(2026, 11, 20, 9, 3, tzinfo=timezone(timedelta(hours=-5)))),
    "subtotal as text": ("subtotal", "39.80"),
    "subtotal as a float": ("subtotal", 39.8),
    "subtotal as an int": ("subtotal", 40),
}


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
@pytest.mark.parametrize("case", [None, *ODD_ORDER_VALUES], ids=["plain", *ODD_ORDER_VALUES])
def test_plain_rows_are_copied_in_binary_the_others_as_text_and_both_as_bulk_create_stores_them(channel, case):
    customer = Customer.objects.create(email="bulk@example.com", name="A Buyer")

    def orders(prefix):
        rows = _orders(channel, customer, prefix, bulk.COPY_FROM)
        if case is not None:
            name, value = ODD_ORDER_VALUES[case]
            setattr(rows[-1], name, value)  # one row of the hundred
        return rows

    with CaptureQueriesContext(connection) as written:
        bulk.insert_many(Order, orders("C"))
    Order.objects.bulk_create(orders("B"))
    assert _rows("C") == _rows("B")
    if connection.vendor == "postgresql":
        copied = [q["sql"] for q in written.captured_queries if q["sql"].startswith("COPY")]
        binary = case in (None, "placed_at in another zone", "subtotal as an int")  # the classes binary takes
        assert copied
        assert copied[-1].endswith("FROM STDIN (FORMAT BINARY)" if binary else "FROM STDIN")


def _one_line_orders(channel, prefix: str, quantities: list) -> list[OrderLine]:
    """A line for each quantity, each on an order of its own (an order has one line per product)."""
    customer = Customer.objects.get_or_create(email="bulk@example.com", defaults={"name": "A Buyer"})[0]
    orders = bulk.insert_many(Order, _orders(channel, customer, prefix, len(quantities)))
    product = factories.ProductFactory()
    return [
        OrderLine(order=o, product=product, sku=f"{prefix}{i}", name="Tee", quantity=q, unit_price=Decimal("9.90"))
        for i, (o, q) in enumerate(zip(orders, quantities, strict=True))
    ]


@pytest.mark.parametrize("odd", ["7", Decimal("7")], ids=["text", "a decimal"])
def test_an_integer_column_given_another_class_is_stored_as_bulk_create_stores_it(channel, odd):
    quantities = [1] * (bulk.COPY_FROM - 1) + [odd]
    bulk.insert_many(OrderLine, _one_line_orders(channel, "C", quantities))
    OrderLine.objects.bulk_create(_one_line_orders(channel, "B", quantities))
    stored = dict(OrderLine.objects.values_list("sku", "quantity"))
    assert stored["C99"] == stored["B99"] == 7
    assert [stored[f"C{i}"] for i in range(bulk.COPY_FROM)] == [stored[f"B{i}"] for i in range(bulk.COPY_FROM)]


@pytest.mark.postgres  # SQLite's integers have no fixed width
@pytest.mark.parametrize("quantity", [2**31, 2**32 + 5, 2**63 + 1], ids=["2^31", "2^32+5", "2^63+1"])
def test_a_number_past_its_columns_range_is_refused_as_bulk_create_is_and_nothing_is_written(channel, quantity):
    """Binary integers have a fixed width: 2^32 + 5 would arrive as 5. Such a row goes as text, and
    PostgreSQL refuses it as it refuses bulk_create's."""
    quantities = [1] * (bulk.COPY_FROM - 1) + [quantity]
    made, copied = _one_line_orders(channel, "B", quantities), _one_line_orders(channel, "C", quantities)
    with pytest.raises(DataError), transaction.atomic():
        OrderLine.objects.bulk_create(made)
    with pytest.raises(DataError), transaction.atomic():
        bulk.insert_many(OrderLine, copied)
    assert not OrderLine.objects.exists()


def test_which_rows_go_in_binary():
    bigint, integer, numeric, stamp, text = 20, 23, 1700, 1184, 1043
    at = datetime(2026, 11, 27, tzinfo=UTC)
    oids = [bigint, integer, numeric, stamp, text]
    assert bulk._binary_types(oids, [[1, 2, Decimal("1.5"), at, "a"], [2, None, 3, None, None]]) == oids
    assert bulk._binary_types(oids, [[1, 2**31 - 1, Decimal(1), at, "a"], [-(2**63), -(2**31), 1, at, ""]]) == oids
    refused = {
        "a bool for an integer": [1, True, Decimal(1), at, "a"],
        "past int4": [1, 2**31, Decimal(1), at, "a"],
        "past int8": [2**63, 1, Decimal(1), at, "a"],
        "a float for a numeric": [1, 1, 1.5, at, "a"],
        "a naive datetime": [1, 1, Decimal(1), at.replace(tzinfo=None), "a"],
        "a date for a datetime": [1, 1, Decimal(1), at.date(), "a"],
        "a number for text": [1, 1, Decimal(1), at, 7],
        "a str subclass": [1, 1, Decimal(1), at, OrderStatus.RECEIVED],
    }
    for why, row in refused.items():
        assert bulk._binary_types(oids, [[1, 1, Decimal(1), at, "a"], row]) is None, why
    assert bulk._binary_types([bigint, 17], [[1, b"bytes"]]) is None  # bytea: not a type it copies in binary
    assert bulk._binary_types([bigint, None], [[1, 2]]) is None  # a column the table lacks
