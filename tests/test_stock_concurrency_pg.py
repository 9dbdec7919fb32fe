"""No oversell, no deadlock, on PostgreSQL with real row locks (DESIGN.md "Inventory invariants").

Threads each open their own connection and transaction; a barrier starts them
together so they really contend for the same stock rows.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from inventory import services as stock_services
from inventory.errors import DomainError
from inventory.models import StockItem
from inventory.selectors import stock_drift
from orders.models import Order
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(workers: int, job) -> list[str]:
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int):
        try:
            barrier.wait()
            result = job(i)
        except DomainError as exc:
            result = exc.code
        except Exception as exc:  # a deadlock or a constraint violation would land here
            result = f"error:{type(exc).__name__}:{exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_many_threads_racing_for_the_last_units_never_oversell(channel, warehouse):
    factories.stock(factories.ProductFactory(sku="LAST"), warehouse, 5)
    workers = 16

    def place(i):
        return factories.place(channel, f"RACE-{i}", lines=(("LAST", 1),)).status

    outcomes = race(workers, place)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert sorted(outcomes) == ["backordered"] * (workers - 5) + ["received"] * 5
    item = StockItem.objects.get(product__sku="LAST")
    assert (item.on_hand, item.reserved) == (5, 5)
    assert stock_drift() == []


def test_orders_taking_the_same_skus_in_opposite_line_order_do_not_deadlock(channel, warehouse):
    a, b, c = (factories.ProductFactory(sku=s) for s in ("A", "B", "C"))
    for product in (a, b, c):
        factories.stock(product, warehouse, 100)
    orders = [(("A", 1), ("B", 1), ("C", 1)), (("C", 1), ("B", 1), ("A", 1))]
    workers = 12

    def place(i):
        return factories.place(channel, f"OPP-{i}", lines=orders[i % 2]).status

    outcomes = race(workers, place)
    assert outcomes == ["received"] * workers, outcomes
    assert set(StockItem.objects.values_list("reserved", flat=True)) == {workers}
    assert stock_drift() == []


def test_adjustments_racing_with_placements_never_go_below_reserved(channel, warehouse):
    factories.stock(factories.ProductFactory(sku="HOT"), warehouse, 10)
    workers = 12

    def job(i):
        if i % 2:
            return factories.place(channel, f"HOT-{i}", lines=(("HOT", 2),)).status
        stock_services.stock_adjust(sku="HOT", location_code="MAIN", delta=-2, reason="damage", actor="race")
        return "adjusted"

    outcomes = race(workers, job)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    item = StockItem.objects.get(product__sku="HOT")
    assert 0 <= item.reserved <= item.on_hand
    assert item.reserved == 2 * outcomes.count("received")
    assert item.on_hand == 10 - 2 * outcomes.count("adjusted")
    assert Order.objects.count() == workers // 2
    assert stock_drift() == []
