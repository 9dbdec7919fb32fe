"""The state now: orders at risk, low stock, dead stock valued at cost, suppliers' punctuality."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from inventory.models import PurchaseOrder, StockItem, StockMovement, Supplier
from metrics import selectors
from orders import fulfilment
from tests import factories

from .conftest import at

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def test_orders_at_risk_are_open_orders_due_by_tomorrow_most_urgent_first(kpi_cohort):
    o = kpi_cohort.orders
    # 03-06: O5 (promised 03-06, not shipped) is due today; O4 (03-10) is not due yet; delivered ones never are.
    due = list(selectors.orders_at_risk(today=date(2025, 3, 6)))
    assert [(order.pk, order.is_late) for order in due] == [(o["O5"].pk, False)]
    # 03-11: O5 and the partly shipped O4 are both late.
    late = list(selectors.orders_at_risk(today=date(2025, 3, 11)))
    assert [(order.pk, order.is_late) for order in late] == [(o["O5"].pk, True), (o["O4"].pk, True)]
    assert list(selectors.orders_at_risk(today=date(2025, 3, 11), channel_id=kpi_cohort.market.pk)) == []
    assert list(selectors.orders_at_risk(today=date(2025, 3, 11), location_id=kpi_cohort.east.pk)) == []


def test_low_stock_is_at_or_below_the_reorder_point(warehouse):
    low = factories.stock(factories.ProductFactory(sku="LOW"), warehouse, 3)
    fine = factories.stock(factories.ProductFactory(sku="FINE"), warehouse, 30)
    unset = factories.stock(factories.ProductFactory(sku="UNSET"), warehouse, 1)
    StockItem.objects.filter(pk__in=[low.pk, fine.pk]).update(reorder_point=5)
    rows = list(selectors.low_stock())
    assert [(row.product.sku, row.available_units) for row in rows] == [("LOW", 3)]
    assert unset.reorder_point == 0  # no reorder point: never "low"
    assert list(selectors.low_stock(location_id=factories.LocationFactory(code="ELSE").pk)) == []


def _aged(item: StockItem, days: int) -> None:
    StockMovement.objects.filter(stock_item=item).update(created_at=NOW - timedelta(days=days))


def test_dead_stock_is_on_hand_without_a_sale_in_n_days_valued_at_cost(channel, warehouse):
    dead = factories.stock(factories.ProductFactory(sku="DEAD", cost=Decimal("4.25")), warehouse, 10)
    _aged(dead, 200)
    selling = factories.stock(factories.ProductFactory(sku="SELL", cost=Decimal("9.00")), warehouse, 10)
    _aged(selling, 200)
    order = factories.place(channel, "S", [("SELL", 1)])
    fulfilment.shipment_ship(shipment=order.shipments.get(), carrier="ups", tracking_number="1Z1", actor="t")
    StockMovement.objects.filter(stock_item=selling, kind=StockMovement.Kind.SHIPMENT).update(
        created_at=NOW - timedelta(days=10)
    )
    fresh = factories.stock(factories.ProductFactory(sku="NEW", cost=Decimal("50.00")), warehouse, 2)
    _aged(fresh, 5)  # arrived five days ago: not dead yet
    empty = factories.stock(factories.ProductFactory(sku="GONE", cost=Decimal("1.00")), warehouse, 1)
    _aged(empty, 200)
    StockItem.objects.filter(pk=empty.pk).update(on_hand=0)  # nothing on hand: nothing dead

    rows = list(selectors.dead_stock(now=NOW, days=90))
    assert [(row.product.sku, row.on_hand, row.value) for row in rows] == [("DEAD", 10, Decimal("42.50"))]
    assert selectors.dead_stock_value(now=NOW, days=90) == Decimal("42.50")
    # With a 5-day horizon the 10-day-old sale no longer counts and the new stock has been there long enough.
    assert selectors.dead_stock_value(now=NOW, days=4) == Decimal("42.50") + Decimal("81.00") + Decimal("100.00")
    assert selectors.dead_stock_value(now=NOW, days=90, location_id=factories.LocationFactory(code="X").pk) == 0


def test_supplier_on_time_rate_counts_purchase_orders_received_in_the_period(warehouse):
    acme, zeta = (
        Supplier.objects.create(name="Acme", email="a@x.example"),
        Supplier.objects.create(name="Zeta", email="z@x.example"),
    )

    def po(supplier, received_day, on_time):
        return PurchaseOrder.objects.create(
            supplier=supplier, location=warehouse, status="received", received_at=at(received_day), on_time=on_time
        )

    po(acme, 2, True)
    po(acme, 3, False)
    po(acme, 4, True)
    po(zeta, 5, False)
    po(zeta, 9, True)  # received after the period
    PurchaseOrder.objects.create(supplier=zeta, location=warehouse, status="sent")  # not received: no verdict
    result = selectors.supplier_on_time(start=at(1), end=at(8))
    assert result == {
        "purchase_orders": 4,
        "on_time_pct": 50.0,
        "suppliers": [
            {"supplier": "Acme", "purchase_orders": 3, "on_time_pct": 66.67},
            {"supplier": "Zeta", "purchase_orders": 1, "on_time_pct": 0.0},
        ],
    }
    assert selectors.supplier_on_time(start=at(20), end=at(21))["on_time_pct"] is None
