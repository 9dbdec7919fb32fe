"""``python -m tests.benchmarks.bench_kpis``: the KPI endpoint against the same figures in hand-written SQL.

Needs PostgreSQL from ``DATABASE_URL``; recreates a database named
``<name>_kpibench`` beside it, migrates it, and fills it in the database itself
(``INSERT ... SELECT generate_series``): ``BENCH_ORDERS`` orders (1,000,000 by
default) placed over the last 365 days, three lines each, one shipment per
shipped order, a return on one order in 25, a caught mis-pick on one shipment
in 100, one order in 20 cancelled, one in 50 short at receipt; then
``VACUUM ANALYZE`` (what autovacuum does to a table that stopped growing) and a
full rebuild of the KPI rollups (what the nightly beat task does). Then, for a
7-day and a 365-day window ending today, it times, best of ``BENCH_REPEAT``
(interleaved, so a busy moment of the machine weighs on all three alike):

- (a) ``GET /api/v1/metrics/kpis/`` through DRF's test client (parsing, the
  rollups for the closed days, today and the order figures live, rendering);
- (b) ``kpis_live()``: the same figures from the ORM with no rollups at all;
- (c) one hand-written SQL statement computing the same figures with psycopg,

checks that all three give the same numbers, and prints the ratios to (c).
``make bench`` runs it in a subprocess (``run(rows=..., row_type=Row)``) and
adds its rows to RESULTS.md. ``BENCH_KPI_REUSE=1`` keeps an already loaded
``_kpibench`` database (migrated again, rollups rebuilt) to iterate quickly.
Never part of ``make test``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse, urlunparse

from tests.benchmarks.run import bench_dsn

ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
REUSE = os.environ.get("BENCH_KPI_REUSE") == "1"
WINDOWS = (7, 365)
GOAL_RATIO, GOAL_MS = 2.0, 1000.0

# What a careful person writes by hand: one statement, each fact aggregated where it lives over a plain join
# (no per-order CTE materialised and hashed against the whole line table), the two percentiles from one sort.
# Run with the same work_mem as the endpoint's order figures (SET LOCAL 64MB), so the sort stays in memory.
HAND_SQL = """
SELECT o.orders, o.orders_delivered, o.lead_mean, o.lead_p[1] AS lead_median, o.lead_p[2] AS lead_p90,
       o.delivered_promised, o.delivered_on_time,
       l.units_ordered, l.units_filled, l.units_sold, l.orders_shipped, l.orders_backordered,
       r.units_returned, r.shipped_with_picking_error, p.orders_perfect, s.mis_picks_caught
FROM (
    SELECT count(*) AS orders,
           count(*) FILTER (WHERE delivered_at IS NOT NULL) AS orders_delivered,
           avg(lead) AS lead_mean,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY lead) AS lead_p,
           count(*) FILTER (WHERE delivered_at IS NOT NULL AND promised_delivery_date IS NOT NULL)
               AS delivered_promised,
           count(*) FILTER (WHERE (delivered_at AT TIME ZONE 'UTC')::date <= promised_delivery_date)
               AS delivered_on_time
    FROM (SELECT delivered_at, promised_delivery_date, date_part('epoch', delivered_at - placed_at) / 3600.0 AS lead
          FROM orders_order
          WHERE placed_at >= %(start)s AND placed_at < %(end)s AND status <> 'cancelled') cohort
) o, (
    SELECT coalesce(sum(li.quantity), 0) AS units_ordered,
           coalesce(sum(li.quantity_filled_at_receipt), 0) AS units_filled,
           coalesce(sum(li.quantity_shipped), 0) AS units_sold,
           count(DISTINCT li.order_id) FILTER (WHERE li.quantity_shipped > 0) AS orders_shipped,
           count(DISTINCT li.order_id) FILTER (
               WHERE li.quantity_filled_at_receipt < li.quantity OR li.quantity_backordered > 0) AS orders_backordered
    FROM orders_orderline li JOIN orders_order od ON od.id = li.order_id
    WHERE od.placed_at >= %(start)s AND od.placed_at < %(end)s AND od.status <> 'cancelled'
) l, (
    SELECT coalesce(sum(rl.quantity), 0) AS units_returned,
           count(DISTINCT rr.order_id) FILTER (WHERE rl.reason IN ('wrong_item', 'missing_item'))
               AS shipped_with_picking_error
    FROM returns_returnline rl JOIN returns_return rr ON rr.id = rl.return_request_id
    JOIN orders_order od ON od.id = rr.order_id
    WHERE rl.quantity > 0 AND rr.status <> 'rejected'
      AND od.placed_at >= %(start)s AND od.placed_at < %(end)s AND od.status <> 'cancelled'
) r, (
    SELECT count(*) AS orders_perfect
    FROM orders_order od
    WHERE od.placed_at >= %(start)s AND od.placed_at < %(end)s AND od.status <> 'cancelled'
      AND od.delivered_at IS NOT NULL
      AND (od.promised_delivery_date IS NULL OR (od.delivered_at AT TIME ZONE 'UTC')::date <= od.promised_delivery_date)
      AND NOT EXISTS (SELECT 1 FROM orders_orderline li WHERE li.order_id = od.id
                      AND (li.quantity_filled_at_receipt < li.quantity OR li.quantity_backordered > 0
                           OR li.quantity_shipped < li.quantity))
      AND (SELECT count(*) FROM orders_shipment sh WHERE sh.order_id = od.id
           AND sh.shipped_at IS NOT NULL AND sh.status <> 'cancelled') <= 1
      AND NOT EXISTS (SELECT 1 FROM returns_returnline rl JOIN returns_return rr ON rr.id = rl.return_request_id
                      WHERE rr.order_id = od.id AND rl.quantity > 0 AND rr.status <> 'rejected')
) p, (
    SELECT count(*) AS mis_picks_caught
    FROM orders_stationscan sc JOIN orders_shipment sh ON sh.id = sc.shipment_id
    JOIN orders_order od ON od.id = sh.order_id
    WHERE sc.outcome IN ('wrong_item', 'too_many')
      AND od.placed_at >= %(start)s AND od.placed_at < %(end)s AND od.status <> 'cancelled'
) s
"""


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

    from channels_app.models import SalesChannel
    from inventory.apikeys import staff_token_create
    from inventory.models import Location, Product
    from orders.models import Customer, Order, OrderLine, Shipment, StationScan
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
    insert_select(
        StationScan,
        {"shipment_id": "s.id", "station": "'pick'", "code": "'X'", "sku": "'KB-000'",
         "outcome": "(ARRAY['wrong_item','too_many'])[1 + s.id %% 2]", "actor": "'bench'", "at": "s.shipped_at"},
        "orders_shipment s WHERE s.id %% 100 = 0",
    )  # fmt: skip
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    print(f"loaded {count:,} orders in {time.monotonic() - started:.1f} s", flush=True)
    user = get_user_model().objects.create_superuser("kpibench", "kpibench@example.com", "kpi-bench-password-1")
    return {"token": staff_token_create(user=user)[1]}


def _loaded(count: int) -> dict | None:
    """``BENCH_KPI_REUSE=1``: a new token on a database already holding ``count`` orders, else ``None``."""
    from django.contrib.auth import get_user_model

    from inventory.apikeys import staff_token_create
    from orders.models import Order

    user = get_user_model().objects.filter(username="kpibench").first()
    if user is None or Order.objects.count() != count:
        return None
    return {"token": staff_token_create(user=user)[1]}


def best_of(fn, repeat: int = REPEAT) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def measure() -> list[dict]:
    """Load (or reuse), rebuild the rollups, time the three ways for each window; one dict per window."""
    dsn = bench_dsn("kpibench")
    if not REUSE:
        _recreate(dsn)
    os.environ["DATABASE_URL"] = dsn
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from rest_framework.test import APIClient

    from metrics.selectors.kpis import KpiFilter, figures_from_counts, kpis_live
    from metrics.services import kpi_rollups_refresh

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    seeded = _loaded(ORDERS) if REUSE else None
    if seeded is None:
        seeded = load(ORDERS)
    started = time.perf_counter()
    kpi_rollups_refresh(full=True)
    rebuild_s = time.perf_counter() - started
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {seeded['token']}")
    today = datetime.now(UTC).date()
    results = []
    for days in WINDOWS:
        start, end = today - timedelta(days=days - 1), today + timedelta(days=1)
        url = f"/api/v1/metrics/kpis/?start={start}&end={end}"
        f = KpiFilter(
            start=datetime(start.year, start.month, start.day, tzinfo=UTC),
            end=datetime(end.year, end.month, end.day, tzinfo=UTC),
        )

        def hand(f=f):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SET LOCAL work_mem = '64MB'")
                cur.execute(HAND_SQL, {"start": f.start, "end": f.end})
                names = [c.name for c in cur.description]
                return dict(zip(names, cur.fetchone(), strict=True))

        client.get(url), kpis_live(f), hand()  # warm: the first request resolves URLs, the first query plans
        api_s = live_s = sql_s = float("inf")
        for _ in range(REPEAT):  # interleaved: a busy moment of the machine weighs on all three alike
            t, response = best_of(lambda url=url: client.get(url), 1)
            api_s = min(api_s, t)
            t, live = best_of(lambda f=f: kpis_live(f), 1)
            live_s = min(live_s, t)
            t, raw = best_of(hand, 1)
            sql_s = min(sql_s, t)
        assert response.status_code == 200, response.content
        expected = figures_from_counts(
            {k: (float(v) if k.startswith("lead") and v is not None else v) for k, v in raw.items()}
        )
        assert response.json() == expected, (response.json(), expected)
        assert live == expected, (live, expected)
        results.append(
            {"days": days, "orders": raw["orders"], "api_ms": api_s * 1000, "live_ms": live_s * 1000,
             "sql_ms": sql_s * 1000, "rebuild_s": rebuild_s}
        )  # fmt: skip
    return results


def run(*, rows: list, row_type) -> None:
    """``make bench``: measure in a subprocess (its own database and Django setup), then add the rows."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "BENCH_KPI_JSON": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_kpis"], cwd=root, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
        rows.append(row_type("KPIs on 1M orders: the benchmark failed (see its output)", 0, "", goal="runs", met=False))
        return
    results = json.loads(done.stdout.strip().splitlines()[-1])
    goal = f"<= {GOAL_RATIO:g}x hand SQL and < {GOAL_MS:g} ms"
    for r in results:
        met = r["api_ms"] <= GOAL_RATIO * r["sql_ms"] and r["api_ms"] < GOAL_MS
        figure = f"KPIs, {r['days']}-day window ({r['orders']} of {ORDERS} orders): GET /api/v1/metrics/kpis/ (ms)"
        rows.append(row_type(figure, r["api_ms"], "ms", r["sql_ms"], "hand-written SQL, same run", goal, met))
        figure = f"KPIs, {r['days']}-day window: the same figures all live from the ORM, no rollups (ms)"
        rows.append(row_type(figure, r["live_ms"], "ms", r["sql_ms"], "hand-written SQL, same run", "report"))
    rebuild = results[0]["rebuild_s"]
    rows.append(row_type(f"KPI rollups: full rebuild over {ORDERS} orders (s)", rebuild, "s", goal="report"))


def main() -> None:
    results = measure()
    if os.environ.get("BENCH_KPI_JSON"):
        print(json.dumps(results))
        return
    print(f"\nKPI endpoint vs hand-written SQL, PostgreSQL, {ORDERS:,} orders, best of {REPEAT}")
    print(f"KPI rollups full rebuild: {results[0]['rebuild_s']:.1f} s")
    print(
        f"{'window':<10}{'orders':>10}{'endpoint ms':>14}{'live ORM ms':>14}{'hand SQL ms':>14}{'ratio':>8}{'live':>8}"
    )
    for r in results:
        print(
            f"{r['days']:>4} days{r['orders']:>10,}{r['api_ms']:>14.1f}{r['live_ms']:>14.1f}{r['sql_ms']:>14.1f}"
            f"{r['api_ms'] / r['sql_ms']:>8.2f}{r['live_ms'] / r['sql_ms']:>8.2f}"
        )


if __name__ == "__main__":
    main()
