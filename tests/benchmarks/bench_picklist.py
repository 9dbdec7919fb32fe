"""Pick list: ``POST /api/v1/pick-lists/`` at a location with 10,000 pending shipments.

The shipments are real: 10,000 orders placed through ``orders.bulk_placement``
for a channel of their own, shipping from a location of their own (so other
sections' orders do not change the queue). Each request makes one wave of
``MAX_WAVE`` shipments from the queue, as the floor asks for it; the baseline
is the reads a wave cannot avoid (the queue's first page and the lines summed
per SKU) run alone. A last row times waves until the queue is empty.

Environment: ``BENCH_PICK_SHIPMENTS`` (10000) pending shipments, ``BENCH_PICK_WAVES`` (7) timed requests.
"""

from __future__ import annotations

import os
import statistics
import time
from unittest import mock

SHIPMENTS = int(os.environ.get("BENCH_PICK_SHIPMENTS", "10000"))
WAVES = int(os.environ.get("BENCH_PICK_WAVES", "7"))


def seed_queue(*, count: int) -> str:
    """``count`` pending own-warehouse shipments at location PICK (one order, one shipment each)."""
    from channels_app.services import channel_create
    from inventory.models import Location, Product, StockItem
    from inventory.services import stock_receive
    from orders import bulk_placement, outbox
    from orders.services import AddressInput, CustomerInput, LineInput, OrderInput

    channel, _ = channel_create(code="pickbench", name="Pick bench", kind="web_store")
    location = Location.objects.create(code="PICK", name="Pick DC", kind="own", priority=1, country="US")
    channel.locations.add(location)
    skus = []
    for i in range(1, 201):
        product = Product.objects.create(sku=f"PICK-{i:03d}", name=f"Pick {i}", price="9.90", cost="4.00")
        stock_receive(product=product, location=location, quantity=1_000_000, reference="bench", actor="bench")
        skus.append(product.sku)
    for i, item in enumerate(StockItem.objects.filter(location=location).order_by("pk")):
        item.bin = f"A{i // 20:02d}-{i % 20:02d}"
        item.save(update_fields=["bin"])
    address = AddressInput(
        name="Pick Buyer", line1="1 Main St", city="Springfield", region="IL", postal_code="62701", country="US"
    )
    for start in range(0, count, 1000):
        batch = [
            OrderInput(
                external_id=f"PICK-{n}",
                customer=CustomerInput(email=f"pick{n // 50}@example.com", name="Pick Buyer"),
                shipping_address=address,
                lines=[LineInput(sku=skus[(n + k * 13) % len(skus)], quantity=1 + k % 2) for k in range(3)],
            )
            for n in range(start, min(start + 1000, count))
        ]
        # Fixture orders: nobody is to be told of them (eager tasks would dispatch their 30,000 events here).
        with mock.patch.object(outbox, "wants", return_value=False):
            bulk_placement.place_orders(channel=channel, batch=batch, actor="bench")
    return location.code


def run(*, token: str, rows: list, row_type) -> None:
    from django.db import connection
    from rest_framework.test import APIClient

    from inventory.models import Location
    from orders.models import Shipment
    from orders.picking import MAX_WAVE, pick_list_lines, pick_queue

    code = seed_queue(count=SHIPMENTS)
    location = Location.objects.get(code=code)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    queued = pick_queue(location=location).count()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def reads() -> float:
        started = time.monotonic()
        ids = list(pick_queue(location=location).values_list("pk", flat=True)[:MAX_WAVE])
        pick_list_lines(shipment_ids=ids)
        return (time.monotonic() - started) * 1000

    def wave() -> float:
        started = time.monotonic()
        response = client.post("/api/v1/pick-lists/", {"location": code, "max_shipments": MAX_WAVE}, format="json")
        elapsed = (time.monotonic() - started) * 1000
        assert response.status_code == 201, response.content[:300]
        assert len(response.json()["shipments"]) == MAX_WAVE
        return elapsed

    baseline = statistics.median(reads() for _ in range(WAVES))
    timings = [wave() for _ in range(WAVES)]
    p50 = statistics.median(timings)
    rows.append(
        row_type(
            f"Pick list from {queued} pending shipments, wave of {MAX_WAVE}, p50 (ms)",
            p50,
            f"ms (max {max(timings):.0f})",
            baseline,
            "its reads alone",
            "< 1000 ms",
            max(timings) < 1000,
        )
    )
    left = pick_queue(location=location).count()
    started = time.monotonic()
    waves = 0
    while Shipment.objects.filter(location=location, status=Shipment.Status.PENDING).exists():
        wave_ms = wave() if left >= MAX_WAVE else None
        if wave_ms is None:
            break
        waves += 1
        left -= MAX_WAVE
    total = time.monotonic() - started
    rows.append(
        row_type(
            f"Pick lists for the remaining {waves * MAX_WAVE} shipments ({waves} waves) (s)",
            total,
            "s",
            goal="< 1 s per wave",
            met=total < waves * 1.0 if waves else None,
        )
    )
