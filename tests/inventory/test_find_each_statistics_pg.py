"""find_each renews the statistics of a table that outgrew them, so each value is looked up in the unique index.

Seen in a first import into an empty database: with the orders table's statistics those of an empty
table, PostgreSQL served each external id by the index that leads with ``channel`` (the KPI one) and
read every order of the channel for it, so each batch cost more than the one before (0.1, 0.2, 0.4 s...)
until autovacuum came round.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import bulk
from orders.models import Order
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

COPIES = 3000


def _statistics() -> tuple[float, int, int]:
    """The orders table's (reltuples, relpages) as last analyzed, and the pages it has now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples, relpages, pg_relation_size(oid) / current_setting('block_size')::int "
            "FROM pg_class WHERE oid = 'orders_order'::regclass"
        )
        return cursor.fetchone()


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _copies_of(order: Order, count: int) -> None:
    """``count`` copies of ``order`` with external ids C-1..C-count, in one statement."""
    columns = [f.column for f in Order._meta.concrete_fields if f.column not in ("id", "external_id")]
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO orders_order ({names}, "external_id") '
            f"SELECT {names}, 'C-' || g FROM orders_order, generate_series(1, %s) g WHERE id = %s",
            [count, order.pk],
        )


def test_a_table_grown_past_its_statistics_is_analyzed_and_looked_up_by_its_unique_index(channel, warehouse):
    factories.stock(factories.ProductFactory(sku="TEE-RED-M"), warehouse, 5)
    first = factories.place(channel, "FIRST")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")  # statistics of the table before the import, as after a first batch
    _copies_of(first, COPIES)
    _, pages, now = _statistics()
    assert now > max(2 * pages, bulk.STALE_PAGES)  # outgrown: the statistics count a table a fraction its size
    wanted = [f"C-{i}" for i in range(1, 201, 2)] + ["NOT-THERE"]

    with CaptureQueriesContext(connection) as queries:
        found = bulk.find_each(Order, field="external_id", values=wanted, channel=channel)

    assert sorted(o.external_id for o in found) == sorted(wanted[:-1])
    tuples, pages, now = _statistics()
    assert tuples >= COPIES  # analyzed at the size it has
    assert pages == now
    lookup = next(q["sql"] for q in queries.captured_queries if "CROSS JOIN LATERAL" in q["sql"])
    plan = _plan(lookup)
    assert "order_unique_external_id_per_channel" in plan, plan


def test_statistics_that_still_fit_the_table_are_left_alone(channel, warehouse):
    factories.stock(factories.ProductFactory(sku="TEE-RED-M"), warehouse, 5)
    first = factories.place(channel, "FIRST")
    _copies_of(first, COPIES)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    wanted = [f"C-{i}" for i in range(1, 11)]
    with CaptureQueriesContext(connection) as queries:
        found = bulk.find_each(Order, field="external_id", values=wanted, channel=channel)

    assert len(found) == 10
    assert not [q for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
