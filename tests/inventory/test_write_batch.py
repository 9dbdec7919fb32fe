"""inventory.bulk.Batch: statements sent together on PostgreSQL, what runs meanwhile sees them, the same rows
everywhere (elsewhere each statement runs as it comes)."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, connections, transaction
from psycopg import pq

from inventory import bulk
from orders.models import Customer, Order, OrderEvent
from tests import factories

pytestmark = pytest.mark.django_db


def _order(channel, customer, external_id: str) -> Order:
    return factories.order_row(channel, customer, external_id)


def _event(order: Order, n: int) -> OrderEvent:
    return OrderEvent(order=order, type="placed", at=order.placed_at, actor="t", data={"n": n})


@pytest.fixture
def customer(db):
    return Customer.objects.create(email="batch@example.com", name="A Buyer")


@contextmanager
def round_trips():
    """The command tags PostgreSQL answered, one list per round trip (libpq's protocol trace)."""
    pgconn = connection.connection.pgconn
    trips: list[list[str]] = []
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield trips
        finally:
            pgconn.untrace()
        trace.seek(0)
        current: list[str] = []
        for line in trace.read().decode().splitlines():
            parts = line.split("\t")
            if parts[0] == "B" and parts[2] == "CommandComplete":
                current.append(parts[3].strip(' "').split()[0])
            elif parts[0] == "B" and parts[2] == "ReadyForQuery":
                trips.append(current)
                current = []


@pytest.mark.postgres
def test_statements_go_in_one_round_trip_and_each_gets_its_rows(channel, customer):
    connection.ensure_connection()
    answered = {}
    with round_trips() as trips, bulk.Batch(connection.alias) as batch:
        batch.execute("SELECT %s, %s", [1, "a;b"], then=lambda rows: answered.setdefault("first", rows))
        orders = batch.insert(Order, [_order(channel, customer, "B-1"), _order(channel, customer, "B-2")])
        batch.insert(OrderEvent, [_event(orders[1], 0), _event(orders[1], 1)])  # after the last order
        batch.execute("SELECT 2", then=lambda rows: answered.setdefault("last", rows))
        assert orders[0].pk is None  # nothing sent yet
    assert trips == [["SELECT", "INSERT", "INSERT", "SELECT"]]
    assert answered == {"first": [(1, "a;b")], "last": [(2,)]}
    stored = list(OrderEvent.objects.filter(order__external_id="B-2").values_list("order_id", "data"))
    assert stored == [(orders[1].pk, {"n": 0}), (orders[1].pk, {"n": 1})]
    assert [o.pk for o in orders] == list(Order.objects.order_by("pk").values_list("pk", flat=True))


@pytest.mark.postgres
def test_rows_keyed_beforehand_are_stored_for_whoever_looks(channel, customer):
    (keys,) = bulk.fetch_together(connection.alias, bulk.keys_statement(connection.alias, {Order: 2, OrderEvent: 1}))
    orders = [_order(channel, customer, "K-1"), _order(channel, customer, "K-2")]
    event = _event(orders[0], 0)
    bulk.give_keys(keys, orders, [event])
    assert orders[0].pk < orders[1].pk
    with bulk.Batch(connection.alias) as batch:
        batch.insert(Order, orders)
        batch.insert(OrderEvent, [event])
        assert not orders[0]._state.adding
    assert OrderEvent.objects.get(pk=event.pk).order_id == orders[0].pk


def test_a_statement_run_meanwhile_sees_what_the_batch_wrote(channel, customer):
    with bulk.Batch(connection.alias) as batch:
        (order,) = batch.insert(Order, [_order(channel, customer, "M-1")])
        assert Order.objects.filter(external_id="M-1").exists()  # sent before this query
        assert order.pk is not None
        batch.insert(OrderEvent, [_event(order, 0)])
    assert OrderEvent.objects.filter(order=order).count() == 1


def test_children_of_a_parent_not_inserted_last_get_its_key(channel, customer):
    first, second = _order(channel, customer, "P-1"), _order(channel, customer, "P-2")
    with bulk.Batch(connection.alias) as batch:
        batch.insert(Order, [first])
        batch.insert(OrderEvent, [_event(first, 0)])  # just after its parent
        batch.insert(Order, [second])
        batch.insert(OrderEvent, [_event(first, 1)])  # its parent is not the last order inserted: sent first
        batch.insert(OrderEvent, [_event(second, 2)])
    stored = list(OrderEvent.objects.order_by("pk").values_list("order_id", "data"))
    assert stored == [(first.pk, {"n": 0}), (first.pk, {"n": 1}), (second.pk, {"n": 2})]


def _in_batch(*inserts: tuple[type, list], fail: Exception | None = None) -> None:
    with transaction.atomic(), bulk.Batch(connection.alias) as batch:
        for model, objs in inserts:
            batch.insert(model, objs)
        if fail is not None:
            raise fail


def test_an_exception_drops_what_was_not_sent(channel, customer):
    with pytest.raises(RuntimeError):
        _in_batch((Order, [_order(channel, customer, "X-1")]), fail=RuntimeError("refused"))
    assert not Order.objects.exists()


def test_a_duplicate_is_an_integrity_error_when_sent(channel, customer):
    duplicate = [_order(channel, customer, "D-1"), _order(channel, customer, "D-1")]  # (channel, external_id)
    with pytest.raises(IntegrityError):
        _in_batch((Order, duplicate[:1]), (Order, duplicate[1:]))
    assert not Order.objects.exists()


def test_a_child_of_a_parent_never_inserted_is_refused(channel, customer):
    with pytest.raises(ValueError, match="unsaved related object"):
        _in_batch((OrderEvent, [_event(_order(channel, customer, "U-1"), 0)]))
    assert not OrderEvent.objects.exists()


def _prepared() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.postgres
def test_a_statement_batched_often_is_prepared_and_django_s_own_never(channel, customer):
    """A batched statement sent more than PG_PREPARE_THRESHOLD times (settings: 5) on a connection is prepared:
    PostgreSQL parses and plans it once; the ORM's own queries stay bound client-side, never prepared."""
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    assert threshold == 5
    for n in range(threshold + 1):
        assert not any("pg_prepared_probe" in s for s in _prepared()), f"prepared after {n} sends"
        (rows,) = bulk.fetch_together(connection.alias, ("SELECT %s::int AS pg_prepared_probe", [n]))
        assert rows == [(n,)]
        orm = Customer.objects.filter(email=f"probe{n}@example.com")
        list(orm)
    prepared = _prepared()
    assert "SELECT $1::int AS pg_prepared_probe" in prepared
    orm_sql = orm.query.sql_with_params()[0].replace("%s", "$1")
    assert '"orders_customer"."email" = $1' in orm_sql  # what it would be, prepared
    assert orm_sql not in prepared


@pytest.mark.postgres
def test_execute_wrappers_are_given_the_connection_and_a_cursor_made_once_per_connection():
    """As Django gives its wrappers ``context["cursor"]``; the batch never sends through it, so one serves every
    batch of the connection (making one per batch cost more than binding the batch's values)."""
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append((context["connection"], context["cursor"].cursor))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        for n in range(2):
            with bulk.Batch(connection.alias) as batch:
                batch.execute("SELECT %s", [n])
    (first_connection, first), (second_connection, second) = seen
    assert first_connection is second_connection is connections[connection.alias]
    assert first is second
    assert not first.closed
    assert first.connection is connection.connection
    with connection.cursor() as cursor:  # Django's own cursors are not that one, and closing them leaves it be
        assert cursor.cursor is not first
    assert not first.closed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_after_the_connection_is_closed_a_batch_reconnects_with_a_cursor_of_the_new_connection():
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(context["cursor"].cursor)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        (first,) = bulk.fetch_together(connection.alias, ("SELECT %s", [1]))
        old = connection.connection
        connection.close()  # as Django does past CONN_MAX_AGE, or after an error that broke the connection
        (second,) = bulk.fetch_together(connection.alias, ("SELECT %s", [2]))
    assert (first, second) == ([(1,)], [(2,)])
    assert connection.connection is not old
    assert seen[1] is not seen[0]
    assert seen[1].connection is connection.connection
