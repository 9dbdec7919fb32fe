"""A cohort with known timestamps, built through the services, shared by the selector, API and command tests.

Window under test: ``[2025-03-01, 2025-03-08)``. Placed times, delivery times
and promised dates are exact; every expected figure in the tests is worked out
by hand from the table below.

=====  =======  ===================  =============  ==========  =====================  ===========================
order  channel  placed (UTC)         lines          promised    delivered (UTC)        notes
=====  =======  ===================  =============  ==========  =====================  ===========================
O1     web      03-01 10:00          2 A            03-04       03-03 10:00 (48 h)     perfect; a caught mis-pick
O2     web      03-02 08:00          1 A + 1 B      03-04       03-05 14:00 (78 h)     late; return 1 B wrong_item
O3     web      03-03 00:00          3 A            none        03-04 12:00 (36 h)     business customer; return
                                                                                       1 A damaged, rejected
O4     web      03-04 12:00          2 B            03-10       not delivered          1 B backordered, 1 shipped
O5     web      03-05 09:00          1 A            03-06       not shipped
O6     web      03-06 10:00          4 A            03-07       03-07 22:00 (36 h)     return 2 A missing_item
O7     web      03-03 09:00          1 A                                               cancelled: not in the cohort
O8     web      03-08 00:00          1 A            03-09       03-09 00:00            placed at ``end``: outside
O9     web      02-28 23:59:59       1 A                                               placed before ``start``
O10    market   03-02 12:00          1 A (EAST)     03-02       03-03 12:00 (24 h)     late
=====  =======  ===================  =============  ==========  =====================  ===========================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from orders import fulfilment
from orders.models import Customer, Order, StationScan
from orders.services import cancel_order
from returns.models import ReturnPolicy
from returns.services import ReturnLineInput, return_reject, return_request
from tests import factories

HOUR = timedelta(hours=1)
START = date(2025, 3, 1)
END = date(2025, 3, 8)

# Every figure for [START, END), all channels: O1..O6 and O10 (O7 cancelled, O8 placed at END, O9 before START).
WHOLE_COHORT = {
    "orders": 7,
    "orders_shipped": 6,  # all but O5
    "orders_delivered": 5,  # O1 O2 O3 O6 O10
    # lead times 48, 78, 36, 36, 24: mean 222/5; median the 3rd; p90 at rank 3.6 = 48 + 0.6 * 30
    "order_lead_time_hours": {"mean": 44.4, "median": 36.0, "p90": 66.0},
    "on_time_delivery_pct": 50.0,  # promised and delivered: O1 yes, O2 no, O6 yes (on the day), O10 no
    "order_accuracy_pct": 66.67,  # (6 shipped - O2 wrong_item - O6 missing_item) / 6
    "return_rate_pct": 23.08,  # 3 units back (O3's rejected return does not count) / 13 shipped
    "fill_rate_pct": 93.33,  # 14 of 15 units reserved at receipt (O4 backordered one)
    "backorder_rate_pct": 14.29,  # 1 of 7
    "perfect_order_pct": 40.0,  # O1 and O3 (no promise, rejected return) of 5 delivered
    "units_sold": 13,
    "units_returned": 3,
    "mis_picks_caught": 1,  # O1's wrong item; O8's is outside the window, an "ok" scan is no mis-pick
}

# The web channel only (O1..O6).
WEB_COHORT = {
    "orders": 6,
    "orders_shipped": 5,
    "orders_delivered": 4,
    # 36, 36, 48, 78: mean 49.5, median (36 + 48) / 2, p90 at rank 2.7 = 48 + 0.7 * 30
    "order_lead_time_hours": {"mean": 49.5, "median": 42.0, "p90": 69.0},
    "on_time_delivery_pct": 66.67,  # 2 of O1 O2 O6
    "order_accuracy_pct": 60.0,  # (5 - 2) / 5
    "return_rate_pct": 25.0,  # 3 / 12
    "fill_rate_pct": 92.86,  # 13 / 14
    "backorder_rate_pct": 16.67,  # 1 / 6
    "perfect_order_pct": 50.0,  # O1 O3 of 4
    "units_sold": 12,
    "units_returned": 3,
    "mis_picks_caught": 1,
}


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=UTC)


def ship(order: Order, *, delivered_at: datetime | None = None) -> None:
    for shipment in order.shipments.exclude(status="cancelled").order_by("pk"):
        shipment = fulfilment.shipment_ship(
            shipment=shipment, carrier="ups", tracking_number=f"1Z{shipment.pk:08d}", actor="test"
        )
        if delivered_at is not None:
            fulfilment.shipment_deliver(shipment=shipment, actor="test", delivered_at=delivered_at)


def give_back(order: Order, sku: str, quantity: int, reason: str):
    return return_request(order=order, lines=[ReturnLineInput(sku=sku, quantity=quantity, reason=reason)], actor="test")


@dataclass
class Cohort:
    web: object
    market: object
    main: object
    east: object
    orders: dict[str, Order]


@pytest.fixture
def kpi_cohort(channel, warehouse) -> Cohort:
    return build_kpi_cohort(channel, warehouse)


def build_kpi_cohort(channel, warehouse) -> Cohort:
    """The table above, through the services (``channel`` has a key, ``warehouse`` is MAIN and serves it)."""
    web, main = channel, warehouse
    market = factories.ChannelFactory(code="market")
    east = factories.LocationFactory(code="EAST", priority=1)
    market.locations.add(east)
    for ch in (web, market):
        ReturnPolicy.objects.create(channel=ch, window_days=100_000)  # fixed 2025 dates stay returnable
    a = factories.ProductFactory(sku="A", cost="5.00")
    b = factories.ProductFactory(sku="B", cost="7.00")
    factories.stock(a, main, 20)
    factories.stock(b, main, 2)
    factories.stock(a, east, 5)

    def place(ch, ext, lines, placed, promised=None, email="ana@example.com"):
        return factories.place(ch, ext, lines, placed_at=placed, promised_delivery_date=promised, email=email)

    o = {}
    o["O1"] = place(web, "O1", [("A", 2)], at(1, 10), date(2025, 3, 4))
    o["O2"] = place(web, "O2", [("A", 1), ("B", 1)], at(2, 8), date(2025, 3, 4))
    o["O3"] = place(web, "O3", [("A", 3)], at(3, 0), None, email="buyer@corp.example")
    Customer.objects.filter(email="buyer@corp.example").update(kind=Customer.Kind.BUSINESS)
    o["O4"] = place(web, "O4", [("B", 2)], at(4, 12), date(2025, 3, 10))
    o["O5"] = place(web, "O5", [("A", 1)], at(5, 9), date(2025, 3, 6))
    o["O6"] = place(web, "O6", [("A", 4)], at(6, 10), date(2025, 3, 7))
    o["O7"] = place(web, "O7", [("A", 1)], at(3, 9))
    o["O8"] = place(web, "O8", [("A", 1)], at(8, 0), date(2025, 3, 9))
    o["O9"] = place(web, "O9", [("A", 1)], at(28, 23, 59, 59, month=2))
    o["O10"] = place(market, "O10", [("A", 1)], at(2, 12), date(2025, 3, 2))

    ship(o["O1"], delivered_at=at(3, 10))
    ship(o["O2"], delivered_at=at(5, 14))
    ship(o["O3"], delivered_at=at(4, 12))
    ship(o["O4"])
    ship(o["O6"], delivered_at=at(7, 22))
    ship(o["O8"], delivered_at=at(9, 0))
    ship(o["O10"], delivered_at=at(3, 12))
    cancel_order(order=o["O7"], reason="customer request", actor="test")

    give_back(o["O2"], "B", 1, "wrong_item")
    return_reject(rma=give_back(o["O3"], "A", 1, "damaged"), reason="worn", actor="test")
    give_back(o["O6"], "A", 2, "missing_item")
    give_back(o["O8"], "A", 1, "wrong_item")  # outside the window: counts nowhere

    for order, outcome in (("O1", "wrong_item"), ("O1", "ok"), ("O8", "too_many")):
        StationScan.objects.create(
            shipment=o[order].shipments.get(),
            station="pick",
            code="X",
            sku="A",
            outcome=outcome,
            actor="test",
            at=o[order].placed_at,
        )
    # The event log as it would read had it all happened then: received an hour after placing, shipped
    # six hours after (the KPIs read the orders' own times; the stage cycle times read these).
    for order in o.values():
        order.refresh_from_db()
        order.events.filter(type__in=["placed", "received", "backordered"]).update(at=order.placed_at + HOUR)
        order.events.filter(type="shipment.shipped").update(at=order.placed_at + 6 * HOUR)
    return Cohort(web=web, market=market, main=main, east=east, orders=o)
