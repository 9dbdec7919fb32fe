"""Baseline (b) for API intake: the same inserts and reservations in raw psycopg, no Django.

One transaction per 3-line order, conditional stock reservation in one
statement, ``connections`` threads for ``seconds``. Returns orders/s.
"""

from __future__ import annotations

import json
import threading
import time

import psycopg

ORDER_SQL = """
INSERT INTO orders_order (channel_id, external_id, customer_id, status, hold_reason, placed_at, received_at,
  updated_at, currency, ship_name, ship_line1, ship_line2, ship_city, ship_region, ship_postal_code, ship_country,
  shipping_method, payment_status, notes, subtotal, shipping_total, tax_total, total, fingerprint)
VALUES (%s, %s, %s, 'received', '', now(), now(), now(), 'USD', 'Bench', '1 Main St', '', 'Springfield', '',
  '62701', 'US', '', 'paid', '', 79.60, 0, 0, 79.60, 'raw')
RETURNING id
"""


def _one_order(cur, *, channel_id: int, external_id: str, email: str, items: list[tuple[int, int, int]]) -> None:
    """items: (product_id, stock_item_id, quantity)."""
    cur.execute(
        "INSERT INTO orders_customer (email, name, phone, kind, created_at) VALUES (%s, 'Bench', '', 'consumer', "
        "now()) ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id",
        (email,),
    )
    customer_id = cur.fetchone()[0]
    values = ", ".join(["(%s::bigint, %s::int)"] * len(items))
    params = [v for _, stock_id, q in items for v in (stock_id, q)]
    cur.execute(
        f"UPDATE inventory_stockitem s SET reserved = s.reserved + v.q, updated_at = now() FROM (VALUES {values}) "
        "AS v(id, q) WHERE s.id = v.id AND s.on_hand - s.reserved >= v.q RETURNING s.id",
        params,
    )
    reserved = {row[0] for row in cur.fetchall()}
    cur.execute(ORDER_SQL, (channel_id, external_id, customer_id))
    order_id = cur.fetchone()[0]
    rows = ", ".join(["(%s, %s, 'BENCH', 'Bench', %s, 19.90, %s, %s, 0, 0, %s)"] * len(items))
    params = []
    for product_id, stock_id, q in items:
        got = q if stock_id in reserved else 0
        params += [order_id, product_id, q, got, q - got, got]
    cur.execute(
        "INSERT INTO orders_orderline (order_id, product_id, sku, name, quantity, unit_price, quantity_reserved, "
        f"quantity_backordered, quantity_shipped, quantity_returned, quantity_filled_at_receipt) VALUES {rows} "
        "RETURNING id",
        params,
    )
    line_ids = [row[0] for row in cur.fetchall()]
    cur.execute(
        "INSERT INTO orders_shipment (order_id, location_id, fulfillment, status, created_at) "
        "SELECT %s, location_id, 'own', 'pending', now() FROM inventory_stockitem WHERE id = %s RETURNING id",
        (order_id, items[0][1]),
    )
    shipment_id = cur.fetchone()[0]
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(items))
    params = []
    for line_id, (_, stock_id, q) in zip(line_ids, items, strict=True):
        params += [shipment_id, line_id, stock_id, q]
    cur.execute(
        f"INSERT INTO orders_shipmentline (shipment_id, order_line_id, stock_item_id, quantity) VALUES {rows}",
        params,
    )
    cur.execute(
        "INSERT INTO orders_orderevent (order_id, type, at, actor, data) VALUES "
        "(%s, 'placed', now(), 'system', %s), (%s, 'received', now(), 'system', %s)",
        (order_id, json.dumps({}), order_id, json.dumps({})),
    )


def run(*, dsn: str, channel_id: int, stock: list[tuple[int, int]], seconds: float, connections: int) -> float:
    """stock: (product_id, stock_item_id) pairs to draw 3-line orders from. Returns orders/s."""
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
