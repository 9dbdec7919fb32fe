"""``python -m tests.benchmarks.bench_kpis``: the KPI endpoint against the same figures in hand-written SQL.

Needs PostgreSQL from ``DATABASE_URL``; recreates a database named
``<name>_kpibench`` beside it, migrates it, and fills it in the database itself
(``INSERT ... SELECT generate_series``): ``BENCH_ORDERS`` orders (1,000,000 by
default) placed over the last 365 days, three lines each, one shipment per
shipped order, a return on one order in 25, one order in 20 cancelled, one in
50 short at receipt. Then, for a 28-day and a 365-day window, it times

- (a) ``GET /api/v1/metrics/kpis/`` through DRF's test client (parsing, four
  ORM queries, rendering), and
- (b) one hand-written SQL statement computing the same figures with psycopg,

checks that both give the same numbers, and prints best-of-``BENCH_REPEAT``
times and the ratio a/b. Never part of ``make test``.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse, urlunparse

ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))

HAND_SQL = """
WITH cohort AS (
    SELECT o.id, o.placed_at, o.delivered_at, o.promised_delivery_date
    FROM orders_order o
    WHERE o.placed_at >= %(start)s AND o.placed_at < %(end)s AND o.status <> 'cancelled'
), lines AS (
    SELECT l.order_id, sum(l.quantity) AS ordered, sum(l.quantity_filled_at_receipt) AS filled,
           sum(l.quantity_shipped) AS shipped,
           bool_or(l.quantity_filled_at_receipt < l.quantity OR l.quantity_backordered > 0) AS backordered,
           bool_or(l.quantity_shipped < l.quantity) AS short
    FROM orders_orderline l JOIN cohort c ON c.id = l.order_id
    GROUP BY l.order_id
), rets AS (
    SELECT r.order_id, sum(rl.quantity) AS units, bool_or(rl.reason IN ('wrong_item', 'missing_item')) AS picking
    FROM returns_returnline rl JOIN returns_return r ON r.id = rl.return_request_id JOIN cohort c ON c.id = r.order_id
    WHERE r.status <> 'rejected' AND rl.quantity > 0
    GROUP BY r.order_id
), parcels AS (
    SELECT s.order_id, count(*) AS n
    FROM orders_shipment s JOIN cohort c ON c.id = s.order_id
    WHERE s.shipped_at IS NOT NULL AND s.status <> 'cancelled'
    GROUP BY s.order_id
), facts AS (
    SELECT c.*, coalesce(l.shipped, 0) > 0 AS was_shipped, coalesce(l.backordered, false) AS backordered,
           coalesce(l.short, true) AS short, coalesce(p.n, 0) AS parcels, r.order_id IS NOT NULL AS returned,
           coalesce(r.picking, false) AS picking,
           extract(epoch FROM c.delivered_at - c.placed_at) / 3600.0 AS lead,
           (c.delivered_at AT TIME ZONE 'UTC')::date <= c.promised_delivery_date AS on_time
    FROM cohort c LEFT JOIN lines l ON l.order_id = c.id LEFT JOIN rets r ON r.order_id = c.id
    LEFT JOIN parcels p ON p.order_id = c.id
)
SELECT
    count(*) AS orders,
    count(*) FILTER (WHERE was_shipped) AS orders_shipped,
    count(*) FILTER (WHERE delivered_at IS NOT NULL) AS orders_delivered,
    avg(lead) AS lead_mean,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY lead) AS lead_median,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY lead) AS lead_p90,
    count(*) FILTER (WHERE delivered_at IS NOT NULL AND promised_delivery_date IS NOT NULL) AS delivered_promised,
    count(*) FILTER (WHERE delivered_at IS NOT NULL AND on_time) AS delivered_on_time,
    count(*) FILTER (WHERE was_shipped AND picking) AS shipped_with_picking_error,
    count(*) FILTER (WHERE backordered) AS orders_backordered,
    count(*) FILTER (WHERE delivered_at IS NOT NULL AND (promised_delivery_date IS NULL OR on_time)
                     AND NOT backordered AND NOT short AND parcels = 1 AND NOT returned) AS orders_perfect,
    (SELECT coalesce(sum(ordered), 0) FROM lines) AS units_ordered,
    (SELECT coalesce(sum(filled), 0) FROM lines) AS units_filled,
    (SELECT coalesce(sum(shipped), 0) FROM lines) AS units_sold,
    (SELECT coalesce(sum(units), 0) FROM rets) AS units_returned,
    (SELECT count(*) FROM orders_stationscan sc JOIN orders_shipment s ON s.id = sc.shipment_id
       JOIN cohort c ON c.id = s.order_id WHERE sc.outcome IN ('wrong_item', 'too_many')) AS mis_picks_caught
FROM facts
"""


def _dsn() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench_kpis: needs PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms")
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{(parts.path.lstrip('/') or 'oms')}_kpibench"))


def _recreate(dsn: str) -> None:
    import psycopg

    parts = urlparse(dsn)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunparse(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def insert_select(model, computed: dict[str, str], source: str, params: tuple = ()) -> int:
    """``INSERT INTO <model> SELECT ...``: ``computed`` SQL per field, every other column its Python default."""
    from django.db import connection

    columns, exprs, values = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in computed:
            exprs.append(computed[field.attname])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            exprs.append("now()")
        elif field.has_default() or not field.null:
            exprs.append("%s")
            values.append(field.get_db_prep_save(field.get_default(), connection))
        else:
            exprs.append("NULL")
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(exprs)} FROM {source}"
    with connection.cursor() as cur:
        cur.execute(sql, (*values, *params))
        return cur.rowcount


def load(count: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from channels_app.models import SalesChannel
    from inventory.models import Location, Product
    from orders.models import Customer, Order, OrderLine, Shipment
    from returns.models import Return, ReturnLine

    channel = SalesChannel.objects.create(code="bench", name="Bench", kind="web_store")
    location = Location.objects.create(code="BENCH", name="Bench DC", priority=1, country="US")
    products = [Product.objects.create(sku=f"KB-{i:03d}", name=f"KB {i}", cost="8.00") for i in range(30)]
    customer = Customer.objects.create(email="bench@example.com", name="Bench")
    product_ids = "ARRAY[" + ",".join(str(p.pk) for p in products) + "]"
    skus = "ARRAY[" + ",".join(f"'{p.sku}'" for p in products) + "]"
    placed = "(now() - (g %% 365) * interval '1 day' - (g %% 86400) * interval '1 second')"
    status = "(CASE WHEN g %% 20 = 0 THEN 'cancelled' WHEN g %% 20 = 1 THEN 'received' ELSE 'delivered' END)"
    started = time.monotonic()
    insert_select(
        Order,
        {
            "channel_id": str(channel.pk),
            "external_id": "'KB-' || g",
            "customer_id": str(customer.pk),
            "status": status,
            "placed_at": placed,
            "received_at": placed,
            "cancelled_at": f"CASE WHEN g %% 20 = 0 THEN {placed} END",
            "delivered_at": f"CASE WHEN g %% 20 > 1 THEN {placed} + (12 + g %% 108) * interval '1 hour' END",
            "promised_delivery_date": f"({placed} + interval '3 days')::date",
            "currency": "'USD'",
            "ship_name": "'Bench'",
            "ship_line1": "'1 Main St'",
            "ship_city": "'Springfield'",
            "ship_postal_code": "'62701'",
            "ship_country": "'US'",
            "fingerprint": "'bench'",
        },
        "generate_series(1, %s) AS g",
        (count,),
    )
    insert_select(
        OrderLine,
        {
            "order_id": "o.id",
            "product_id": f"({product_ids})[1 + (o.id + k) %% 30]",
            "sku": f"({skus})[1 + (o.id + k) %% 30]",
            "name": "'KB'",
            "quantity": "1 + k %% 2",
            "unit_price": "19.90",
            "quantity_shipped": "CASE WHEN o.status = 'delivered' THEN 1 + k %% 2 ELSE 0 END",
            "quantity_filled_at_receipt": "1 + k %% 2 - CASE WHEN o.id %% 50 = 0 AND k = 1 THEN 1 ELSE 0 END",
            "quantity_reserved": "0",
        },
        "orders_order o CROSS JOIN generate_series(1, 3) AS k",
    )
    insert_select(
        Shipment,
        {
            "order_id": "o.id",
            "location_id": str(location.pk),
            "fulfillment": "'own'",
            "status": "'delivered'",
            "shipped_at": "o.placed_at + interval '12 hours'",
            "delivered_at": "o.delivered_at",
        },
        "orders_order o WHERE o.status = 'delivered'",
    )
    insert_select(
        Return,
        {"order_id": "o.id", "status": "CASE WHEN o.id %% 100 = 0 THEN 'rejected' ELSE 'received' END",
         "requested_at": "o.delivered_at + interval '2 days'"},
        "orders_order o WHERE o.status = 'delivered' AND o.id %% 25 = 0",
    )  # fmt: skip
    insert_select(
        ReturnLine,
        {
            "return_request_id": "r.id",
            "order_line_id": "l.id",
            "sku": "l.sku",
            "quantity_requested": "1",
            "quantity": "1",
            "reason": "(ARRAY['damaged','defective','wrong_item','missing_item','not_as_described',"
            "'no_longer_needed','other'])[1 + l.id %% 7]",
            "unit_price": "l.unit_price",
        },
        "returns_return r JOIN orders_orderline l ON l.order_id = r.order_id AND l.id %% 3 = 0",
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"loaded {count:,} orders in {time.monotonic() - started:.1f} s", flush=True)
    user = get_user_model().objects.create_superuser("kpibench", "kpibench@example.com", "kpi-bench-password-1")
    return {"token": Token.objects.create(user=user).key}


def best_of(fn, repeat: int = REPEAT) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    dsn = _dsn()
    _recreate(dsn)
    os.environ["DATABASE_URL"] = dsn
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    from metrics.selectors.kpis import figures_from_counts

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    seeded = load(ORDERS)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {seeded['token']}")
    today = datetime.now(UTC).date()
    print(f"\nKPI endpoint vs hand-written SQL, PostgreSQL, {ORDERS:,} orders, best of {REPEAT}")
    print(f"{'window':<10}{'orders':>10}{'endpoint ms':>14}{'hand SQL ms':>14}{'ratio':>8}")
    for days in (28, 365):
        start, end = today - timedelta(days=days - 1), today + timedelta(days=1)
        url = f"/api/v1/metrics/kpis/?start={start}&end={end}"
        api_s, response = best_of(lambda url=url: client.get(url))
        assert response.status_code == 200, response.content
        params = {
            "start": datetime(start.year, start.month, start.day, tzinfo=UTC),
            "end": datetime(end.year, end.month, end.day, tzinfo=UTC),
        }

        def hand(params=params):
            with connection.cursor() as cur:
                cur.execute(HAND_SQL, params)
                names = [c.name for c in cur.description]
                return dict(zip(names, cur.fetchone(), strict=True))

        sql_s, raw = best_of(hand)
        expected = figures_from_counts(
            {k: (float(v) if k.startswith("lead") and v is not None else v) for k, v in raw.items()}
        )
        assert response.json() == expected, (response.json(), expected)
        print(f"{days:>4} days{raw['orders']:>10,}{api_s * 1000:>14.1f}{sql_s * 1000:>14.1f}{api_s / sql_s:>8.2f}")


if __name__ == "__main__":
    main()
