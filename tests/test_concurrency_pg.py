"""No oversell and no deadlock under concurrency, proven on PostgreSQL (DESIGN.md "Inventory invariants").

Real threads, each with its own connection and transaction, race through
``orders.services.place_order``. Run with DATABASE_URL=postgres://...
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from inventory.models import StockItem
from orders import services
from orders.models import Order, OrderLine
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 24


def race(jobs: list[Callable[[], object]]) -> list[BaseException]:
    """Start every job at the same moment, each in its own thread and connection; return what they raised."""
    start = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(job):
        try:
            start.wait(timeout=30)
            job()
        except BaseException as exc:  # reported to the test, which fails on any
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung: a lock was never released"
    return failures


def test_many_threads_racing_for_the_last_units_never_oversell(channel, warehouse):
    product = factories.ProductFactory(sku="LAST")
    factories.stock(product, warehouse, 5)

    def buy(i: int):
        return lambda: factories.place(channel, f"RACE-{i}", [("LAST", 1)], email=f"buyer{i}@example.com")

    failures = race([buy(i) for i in range(THREADS)])

    assert failures == []
    item = StockItem.objects.get(product=product, location=warehouse)
    assert (item.on_hand, item.reserved) == (5, 5)
    lines = OrderLine.objects.filter(product=product)
    assert lines.count() == THREADS
    assert sum(line.quantity_reserved for line in lines) == 5
    assert sum(line.quantity_backordered for line in lines) == THREADS - 5
    assert Order.objects.filter(status=Order.Status.RECEIVED).count() == 5
    assert Order.objects.filter(status=Order.Status.BACKORDERED).count() == THREADS - 5


def test_racing_orders_of_several_units_reserve_exactly_what_is_on_hand(channel, warehouse):
    product = factories.ProductFactory(sku="FEW")
    factories.stock(product, warehouse, 7)

    def buy(i: int):
        return lambda: factories.place(channel, f"MULTI-{i}", [("FEW", 1 + i % 3)], email="same@example.com")

    failures = race([buy(i) for i in range(THREADS)])

    assert failures == []
    item = StockItem.objects.get(product=product)
    assert item.reserved == 7 <= item.on_hand
    ordered = sum(1 + i % 3 for i in range(THREADS))
    lines = OrderLine.objects.filter(product=product)
    assert sum(line.quantity_reserved for line in lines) == 7
    assert sum(line.quantity_backordered for line in lines) == ordered - 7


def test_orders_taking_the_same_skus_in_opposite_order_never_deadlock(channel, warehouse):
    skus = ["A", "B", "C", "D"]
    for sku in skus:
        factories.stock(factories.ProductFactory(sku=sku), warehouse, 1000)

    def buy(i: int):
        order = skus if i % 2 else list(reversed(skus))
        return lambda: factories.place(channel, f"X-{i}", [(sku, 1) for sku in order], email=f"x{i}@example.com")

    for round_ in range(3):
        failures = race([buy(round_ * THREADS + i) for i in range(THREADS)])
        assert failures == [], [repr(f) for f in failures]  # a deadlock is an OperationalError here

    assert list(StockItem.objects.order_by("product__sku").values_list("reserved", flat=True)) == [3 * THREADS] * 4


def test_the_same_order_sent_twice_at_once_is_created_once(channel, warehouse):
    factories.stock(factories.ProductFactory(sku="DUP"), warehouse, 10)
    results: list[tuple[int, bool]] = []

    def send():
        order, created = services.place_order(
            channel=channel, data=factories.order_input("SAME", [("DUP", 2)]), actor="test"
        )
        results.append((order.pk, created))

    failures = race([send for _ in range(8)])

    assert failures == []
    assert len({pk for pk, _ in results}) == 1
    assert sorted(created for _, created in results) == [False] * 7 + [True]
    assert StockItem.objects.get(product__sku="DUP").reserved == 2


def test_cancels_and_backorder_allocation_racing_keep_stock_consistent(channel, warehouse):
    product = factories.ProductFactory(sku="MIX")
    factories.stock(product, warehouse, 10)
    placed = [factories.place(channel, f"M-{i}", [("MIX", 2)], email=f"m{i}@example.com") for i in range(12)]
    # 5 orders reserved 2 each, 7 wait for 14 more units.

    jobs: list[Callable[[], object]] = [
        (lambda o=o: services.cancel_order(order=o, reason="race", actor="test")) for o in placed[:5]
    ]
    jobs += [lambda: services.backorders_allocate(product_ids=[product.pk]) for _ in range(5)]
    failures = race(jobs)

    assert failures == []
    services.backorders_allocate(product_ids=[product.pk])  # whatever the interleaving, settle once more
    item = StockItem.objects.get(product=product)
    lines = OrderLine.objects.filter(product=product)
    assert item.reserved == sum(line.quantity_reserved for line in lines) == 10
    assert sum(line.quantity_backordered for line in lines) == 7 * 2 - 10
