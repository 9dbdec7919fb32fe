"""On PostgreSQL: expiring backorders and allocating arriving stock race for the same orders; a unit is
either allocated or cancelled, never both, and stock stays true."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from inventory.models import StockItem
from inventory.selectors import stock_drift
from orders import backorder_policy, services, tasks
from orders.models import Order, OrderLine
from tests import factories
from tests.test_stock_concurrency_pg import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_allocation_and_expiry_racing_never_give_a_unit_twice(channel, warehouse):
    channel.backorder_policy, channel.backorder_cancel_after_days = "cancel_after_days", 1
    channel.save()
    tee = factories.ProductFactory(sku="TEE")
    old = timezone.now() - timedelta(days=2)
    orders = [
        factories.place(channel, f"RACE-{i}", [("TEE", 2)], placed_at=old, email=f"c{i}@example.com") for i in range(8)
    ]
    with mock.patch.object(tasks.backorders_allocate_task, "delay"):  # stock arrives; nobody allocates yet
        factories.stock(tee, warehouse, 7)

    def job(i: int) -> str:
        if i % 2:
            return f"allocated:{len(services.backorders_allocate(product_ids=[tee.pk]))}"
        return f"cancelled:{len(backorder_policy.backorders_cancel_overdue())}"

    outcomes = race(8, job)

    assert not [o for o in outcomes if o.startswith("error")], outcomes
    lines = OrderLine.objects.filter(order__in=orders)
    assert not lines.exclude(
        quantity=F("quantity_reserved") + F("quantity_backordered") + F("quantity_cancelled") + F("quantity_shipped")
    ).exists()
    assert not lines.filter(quantity_backordered__gt=0).exists()  # every sweep ran after the orders were overdue
    item = StockItem.objects.get(product=tee)
    assert item.reserved == lines.aggregate(n=Sum("quantity_reserved"))["n"] <= 7
    assert stock_drift() == []
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]).prefetch_related("lines"):
        [line] = order.lines.all()
        if line.quantity_reserved:
            assert order.status == Order.Status.RECEIVED
        else:
            assert order.status == Order.Status.CANCELLED
