"""Fill the order tables fast with COPY: the bulk-load baseline and the big-table fixture.

Orders get ids from the table's own sequence range (set after the load), one
customer per 100 orders, three lines each, placed over the last 365 days.
"""

from __future__ import annotations

import time

import psycopg

ORDER_COLUMNS = (
    "id, channel_id, external_id, customer_id, status, hold_reason, placed_at, received_at, updated_at, currency, "
    "ship_name, ship_line1, ship_line2, ship_city, ship_region, ship_postal_code, ship_country, shipping_method, "
    "payment_status, notes, subtotal, shipping_total, tax_total, total, fingerprint"
)
LINE_COLUMNS = (
    "order_id, product_id, sku, name, quantity, unit_price, quantity_reserved, quantity_backordered, "
    "quantity_shipped, quantity_returned, quantity_filled_at_receipt"
)


def _later_columns(model, listed: str) -> tuple[str, tuple]:
    """Columns the model gained since the lists above were written, with their defaults (COPY fills none)."""
    named = {c.strip() for c in listed.split(",")}
    extra = [f for f in model._meta.concrete_fields if f.column not in named and f.has_default()]
    return "".join(f", {f.column}" for f in extra), tuple(f.get_default() for f in extra)


def copy_orders(*, dsn: str, count: int, channel_id: int, products: list[tuple[int, str]], prefix: str) -> float:
    """COPY ``count`` delivered 3-line orders. Returns orders per second."""
    from orders.models import Order, OrderLine

    order_columns, order_extra = _later_columns(Order, ORDER_COLUMNS)
    line_columns, line_extra = _later_columns(OrderLine, LINE_COLUMNS)
    started = time.monotonic()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM orders_order")
        first = cur.fetchone()[0] + 1
        cur.execute(
            "INSERT INTO orders_customer (email, name, phone, kind, created_at) "
            "SELECT 'bulk' || g || '@example.com', 'Bulk', '', 'consumer', now() FROM generate_series(0, %s) g "
            "ON CONFLICT (email) DO NOTHING",
            (count // 100,),
        )
        cur.execute("SELECT id FROM orders_customer WHERE email LIKE 'bulk%%' ORDER BY id")
        customers = [row[0] for row in cur.fetchall()]
        now = time.time()
        with cur.copy(f"COPY orders_order ({ORDER_COLUMNS}{order_columns}) FROM STDIN") as copy:
            for i in range(count):
                placed = now - (i % 365) * 86400 - (i % 86400)
                ts = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(placed))
                copy.write_row(
                    (
                        first + i, channel_id, f"{prefix}-{i}", customers[i % len(customers)], "delivered", "",
                        ts, ts, ts, "USD", "Bulk", "1 Main St", "", "Springfield", "", "62701", "US", "", "paid",
                        "", "79.60", "0.00", "0.00", "79.60", "bulk", *order_extra,
                    )
                )  # fmt: skip
        with cur.copy(f"COPY orders_orderline ({LINE_COLUMNS}{line_columns}) FROM STDIN") as copy:
            for i in range(count):
                for k, q in enumerate((1, 2, 1)):
                    product_id, sku = products[(i + k * 7) % len(products)]
                    copy.write_row((first + i, product_id, sku, sku, q, "19.90", 0, 0, q, 0, q, *line_extra))
        cur.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), (SELECT max(id) FROM orders_order))")
        conn.commit()
    return count / (time.monotonic() - started)
