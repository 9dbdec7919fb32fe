"""With REDIS_URL, tasks go through Redis to a real Celery worker (DESIGN.md "Background work").

Stock added by an adjustment is announced after commit; orders enqueues the
backorder allocation; a worker started here consumes it from Redis and the
waiting order gets its units.
"""

from __future__ import annotations

import time

import pytest

from config.celery import app as celery_app
from inventory import services as stock_services
from orders.models import Order
from tests import factories
from tests.workers import running_worker

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_worker_consumes_the_backorder_allocation_sent_through_redis(channel, warehouse):
    assert celery_app.conf.task_always_eager is False
    assert celery_app.conf.broker_url.startswith("redis://")
    factories.ProductFactory(sku="LATE")
    order = factories.place(channel, "WAITING", [("LATE", 3)])
    assert Order.objects.get(pk=order.pk).status == Order.Status.BACKORDERED
    celery_app.control.purge()  # messages other tests left behind

    stock_services.stock_adjust(sku="LATE", location_code="MAIN", delta=5, reason="delivery", actor="user:test")

    time.sleep(1)
    assert Order.objects.get(pk=order.pk).status == Order.Status.BACKORDERED  # queued, nobody ran it yet
    with running_worker():
        assert wait_for(lambda: Order.objects.get(pk=order.pk).status == Order.Status.RECEIVED)

    line = Order.objects.get(pk=order.pk).lines.get()
    assert (line.quantity_reserved, line.quantity_backordered) == (3, 0)
    assert Order.objects.get(pk=order.pk).events.filter(type="backorder_allocated", actor="system").exists()
