"""Baseline (b) for API intake: the same inserts and reservations in raw psycopg, no Django.

One transaction per 3-line order, conditional stock reservation in one
statement, ``connections`` threads for ``seconds``. Returns orders/s.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import psycopg


class Table:
    """An INSERT for one table: every column, the model's defaults where the caller gives no value.

    Built from the Django model, so new NOT NULL columns never break the baseline.
    """

    def __init__(self, name: str, defaults: dict):
        self.name = name
        self.defaults = defaults

    def insert(self, cur, rows: list[dict], returning: bool = True) -> list[int]:
        columns = list(self.defaults)
        values = []
        for row in rows:
            values += [row.get(c, self.defaults[c]) for c in columns]
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        sql = f"INSERT INTO {self.name} ({', '.join(columns)}) VALUES {', '.join([one] * len(rows))}"
        cur.execute(sql + (" RETURNING id" if returning else ""), values)
        return [r[0] for r in cur.fetchall()] if returning else []


def tables_from_models() -> dict[str, Table]:
    """Call with Django set up (tests.benchmarks.run does)."""
    from django.db import connection
    from django.utils import timezone

    from orders.models import Customer, Order, OrderEvent, OrderLine, Shipment, ShipmentLine

    def defaults(model) -> dict:
        out = {}
        for field in model._meta.concrete_fields:
            if field.primary_key:
                continue
            value = field.get_default()
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = timezone.now()
            out[field.column] = field.get_db_prep_save(value, connection) if value is not None else None
        return out

    return {
        m._meta.label: Table(m._meta.db_table, defaults(m))
        for m in (Customer, Order, OrderLine, Shipment, ShipmentLine, OrderEvent)
    }


def upsert_customer(cur, *, email: str, name: str) -> int:
    """The customer's id, made if new, in one statement (a DB-API cursor: psycopg's or Django's)."""
    cur.execute(
        "INSERT INTO orders_customer (email, name, phone, kind, created_at) VALUES (%s, %s, '', 'consumer', now()) "
        "ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id",
        (email, name),
    )
    return cur.fetchone()[0]


def reserve(cur, wanted: list[tuple[int, int]]) -> dict[int, int]:
    """Reserve (stock row, quantity) pairs, given in stock-row order, where each row has them free; returns the
    rows reserved and their locations. The rows are locked in primary-key order first, as place_order does: an
    UPDATE ... FROM VALUES locks rows in its join's order, and two such orders deadlocked each other."""
    cur.execute(
        "SELECT id FROM inventory_stockitem WHERE id = ANY(%s) ORDER BY id FOR UPDATE", ([row for row, _ in wanted],)
    )
    values = ", ".join(["(%s::bigint, %s::int)"] * len(wanted))
    cur.execute(
        f"UPDATE inventory_stockitem s SET reserved = s.reserved + v.q, updated_at = now() FROM (VALUES {values}) "
        "AS v(id, q) WHERE s.id = v.id AND s.on_hand - s.reserved >= v.q RETURNING s.id, s.location_id",
        [v for row, q in wanted for v in (row, q)],
    )
    return dict(cur.fetchall())


def _one_order(
    cur, tables, *, channel_id: int, external_id: str, email: str, items: list[tuple[int, int, int]]
) -> None:
    """items: (product_id, stock_item_id, quantity), in stock-row order."""
    customer_id = upsert_customer(cur, email=email, name="Bench")
    reserved = reserve(cur, [(stock_id, q) for _, stock_id, q in items])
    now = datetime.now(UTC)
    (order_id,) = tables["orders.Order"].insert(
        cur,
        [
            {
                "channel_id": channel_id, "external_id": external_id, "customer_id": customer_id,
                "status": "received", "placed_at": now, "received_at": now, "updated_at": now, "currency": "USD",
                "ship_name": "Bench", "ship_line1": "1 Main St", "ship_city": "Springfield", "ship_region": "IL",
                "ship_postal_code": "62701", "ship_country": "US", "subtotal": Decimal("79.60"),
                "total": Decimal("79.60"), "fingerprint": "raw",
            }
        ],
    )  # fmt: skip
    line_ids = tables["orders.OrderLine"].insert(
        cur,
        [
            {
                "order_id": order_id, "product_id": product_id, "sku": "BENCH", "name": "Bench", "quantity": q,
                "unit_price": Decimal("19.90"), "quantity_reserved": q if stock_id in reserved else 0,
                "quantity_backordered": 0 if stock_id in reserved else q,
                "quantity_filled_at_receipt": q if stock_id in reserved else 0,
            }
            for product_id, stock_id, q in items
        ],
    )  # fmt: skip
    (shipment_id,) = tables["orders.Shipment"].insert(
        cur,
        [{"order_id": order_id, "location_id": next(iter(reserved.values())), "fulfillment": "own", "created_at": now}],
    )
    tables["orders.ShipmentLine"].insert(
        cur,
        [
            {"shipment_id": shipment_id, "order_line_id": line_id, "stock_item_id": stock_id, "quantity": q}
            for line_id, (_, stock_id, q) in zip(line_ids, items, strict=True)
            if stock_id in reserved
        ],
        returning=False,
    )
    tables["orders.OrderEvent"].insert(
        cur,
        [
            {"order_id": order_id, "type": kind, "at": now, "actor": "system", "data": json.dumps({})}
            for kind in ("placed", "routed", "received")
        ],
        returning=False,
    )


def run(*, dsn: str, channel_id: int, stock: list[tuple[int, int]], seconds: float, connections: int) -> float:
    """stock: (product_id, stock_item_id) pairs to draw 3-line orders from. Returns orders/s."""
    tables = tables_from_models()
    stop = time.monotonic() + seconds
    counts = [0] * connections
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with psycopg.connect(dsn) as conn:
                i = 0
                while time.monotonic() < stop:
                    i += 1
                    picks = [stock[(i + off) % len(stock)] for off in (0, 7, 13)]
                    items = [(p, s, q) for (p, s), q in zip(picks, (1, 2, 1), strict=True)]
                    items.sort(key=lambda it: it[1])  # lock stock rows in primary-key order
                    with conn.transaction(), conn.cursor() as cur:
                        _one_order(
                            cur,
                            tables,
                            channel_id=channel_id,
                            external_id=f"raw-{n}-{i}-{time.time_ns()}",
                            email=f"c{i % 500}@example.com",
                            items=items,
                        )
                    counts[n] += 1
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return sum(counts) / (time.monotonic() - started)
