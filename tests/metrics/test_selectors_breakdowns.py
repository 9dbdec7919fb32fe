"""Returns by reason and stage cycle times, against values worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from metrics import selectors
from metrics.selectors import KpiFilter, day_start
from orders import fulfilment, picking
from orders.models import OrderEvent
from tests import factories

from .conftest import END, START, at

pytestmark = pytest.mark.django_db


def window(**kw) -> KpiFilter:
    return KpiFilter(start=day_start(START), end=day_start(END), **kw)


def test_returns_by_reason_count_units_of_non_rejected_returns(kpi_cohort):
    reasons = selectors.return_reasons(window())
    assert [(r["reason"], r["units"], r["lines"], r["pct"]) for r in reasons[:2]] == [
        ("missing_item", 2, 1, 66.67),  # O6
        ("wrong_item", 1, 1, 33.33),  # O2; O8's is outside the window
    ]
    rest = {r["reason"]: (r["units"], r["pct"]) for r in reasons[2:]}
    assert rest["damaged"] == (0, 0.0)  # O3's damaged return was rejected
    assert len(reasons) == 7


def test_returns_by_reason_of_an_empty_cohort_are_zero_with_null_shares(db):
    reasons = selectors.return_reasons(window())
    assert {r["units"] for r in reasons} == {0}
    assert {r["pct"] for r in reasons} == {None}


def _walk(order, *, times: dict[str, object], pick_and_pack: bool = True, deliver=None):
    """Take ``order`` through the floor with the real services, then pin each event's time."""
    shipment = order.shipments.get()
    if pick_and_pack:
        picking.shipment_pick(shipment=shipment, lines={"A": 1}, actor="test")
        fulfilment.shipment_pack(
            shipment=shipment, weight_grams=500, length_mm=300, width_mm=200, height_mm=100, actor="test"
        )
    shipment = fulfilment.shipment_ship(shipment=shipment, carrier="ups", tracking_number=f"1Z{order.pk}", actor="t")
    if deliver is not None:
        fulfilment.shipment_deliver(shipment=shipment, actor="test", delivered_at=deliver)
    for event_type, when in times.items():
        assert OrderEvent.objects.filter(order=order, type=event_type).update(at=when) == 1


def test_stage_cycle_times_from_the_event_log(channel, warehouse):
    product = factories.ProductFactory(sku="A")
    factories.stock(product, warehouse, 10)
    s1 = factories.place(channel, "S1", [("A", 1)], placed_at=at(1, 0), promised_delivery_date=date(2025, 3, 5))
    s2 = factories.place(channel, "S2", [("A", 1)], placed_at=at(2, 0))
    s3 = factories.place(channel, "S3", [("A", 1)], placed_at=at(3, 0))
    _walk(
        s1,
        times={
            "received": at(1, 2),
            "shipment.picked": at(1, 6),
            "shipment.packed": at(1, 7),
            "shipment.shipped": at(1, 10),
        },
        deliver=at(2, 10),
    )
    _walk(
        s2,
        times={
            "received": at(2, 4),
            "shipment.picked": at(2, 12),
            "shipment.packed": at(2, 15),
            "shipment.shipped": at(2, 16),
        },
        deliver=at(3, 22),
    )
    # S3 goes out without a pick or a pack (as a 3PL reports it) and is not delivered yet.
    _walk(s3, times={"received": at(3, 6), "shipment.shipped": at(3, 12)}, pick_and_pack=False)

    stages = {s["stage"]: (s["orders"], s["mean_hours"], s["p90_hours"]) for s in selectors.stage_cycle_times(window())}
    assert stages == {
        "placed_received": (3, 4.0, 5.6),  # 2, 4, 6 h: p90 at rank 1.8 = 4 + 0.8 * 2
        "received_picked": (2, 6.0, 7.6),  # 4, 8 h
        "picked_packed": (2, 2.0, 2.8),  # 1, 3 h
        "packed_shipped": (2, 2.0, 2.8),  # 3, 1 h
        "shipped_delivered": (2, 27.0, 29.4),  # 24, 30 h
    }
    assert selectors.slowest_stage(selectors.stage_cycle_times(window()))["stage"] == "shipped_delivered"
    # A stage that ends before it began (back-dated data) is left out rather than counted negative.
    OrderEvent.objects.filter(order=s2, type="shipment.packed").update(at=at(2, 11))
    stages = {s["stage"]: (s["orders"], s["mean_hours"]) for s in selectors.stage_cycle_times(window())}
    assert stages["picked_packed"] == (1, 1.0)
    assert stages["packed_shipped"] == (2, 4.0)  # 3 h and 5 h
    # Their lead times are the stages added up: S1 2+4+1+3+24 = 34 h, S2 4+8+3+1+30 = 46 h.
    assert selectors.kpis(window())["order_lead_time_hours"] == {"mean": 40.0, "median": 40.0, "p90": 44.8}


def test_stage_cycle_times_of_an_empty_cohort_are_null(db):
    stages = selectors.stage_cycle_times(window())
    assert [s["stage"] for s in stages] == [
        "placed_received",
        "received_picked",
        "picked_packed",
        "packed_shipped",
        "shipped_delivered",
    ]
    assert {(s["orders"], s["mean_hours"], s["p90_hours"]) for s in stages} == {(0, None, None)}
    assert selectors.slowest_stage(stages) is None
