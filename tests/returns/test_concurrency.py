"""Returns racing for the same units on PostgreSQL: the order row lock lets exactly one win."""

import threading

import pytest
from django.db import connection

from inventory.errors import InvalidInput
from returns import services
from returns.models import Return
from returns.services import ReturnLineInput as L
from tests import factories

from .conftest import ship_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_parallel_requests_never_return_more_than_shipped(channel, warehouse):
    product = factories.ProductFactory(sku="LAST-ONE", price="10.00")
    factories.stock(product, warehouse, 2)
    order = ship_order(factories.place(channel, "RACE-1", lines=[("LAST-ONE", 2)]), delivered_days_ago=1)
    workers = 6
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []

    def request_one():
        try:
            barrier.wait()
            services.return_request(order=order, lines=[L("LAST-ONE", 1, "damaged")], actor="race")
            outcomes.append("ok")
        except InvalidInput as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=request_one) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "ok"] + ["quantity_exceeds_returnable"] * (workers - 2)
    assert Return.objects.filter(order=order).count() == 2
    assert order.lines.get().quantity_returned == 2
