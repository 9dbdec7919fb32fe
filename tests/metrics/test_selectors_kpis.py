"""Every KPI of API.md against a value worked out by hand from the cohort in conftest.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection

from metrics import selectors
from metrics.selectors import KpiFilter, day_start
from orders.models import Customer, OrderLine

from .conftest import END, START, WEB_COHORT, WHOLE_COHORT

pytestmark = pytest.mark.django_db


def window(**kw) -> KpiFilter:
    return KpiFilter(start=day_start(START), end=day_start(END), **kw)


def test_every_figure_of_the_whole_cohort(kpi_cohort):
    assert selectors.kpis(window()) == WHOLE_COHORT


def test_the_channel_filter_keeps_its_own_orders(kpi_cohort):
    assert selectors.kpis(window(channel_id=kpi_cohort.web.pk)) == WEB_COHORT
    market = selectors.kpis(window(channel_id=kpi_cohort.market.pk))
    assert (market["orders"], market["order_lead_time_hours"]["mean"], market["on_time_delivery_pct"]) == (1, 24.0, 0.0)


def test_the_location_filter_takes_orders_with_a_shipment_from_it(kpi_cohort):
    east = selectors.kpis(window(location_id=kpi_cohort.east.pk))
    assert (east["orders"], east["units_sold"], east["perfect_order_pct"]) == (1, 1, 0.0)
    assert selectors.kpis(window(location_id=kpi_cohort.main.pk)) == WEB_COHORT


def test_the_customer_kind_filter(kpi_cohort):
    business = selectors.kpis(window(customer_kind=Customer.Kind.BUSINESS))
    assert business["orders"] == 1
    assert business["order_lead_time_hours"] == {"mean": 36.0, "median": 36.0, "p90": 36.0}
    assert business["on_time_delivery_pct"] is None  # O3 had no promise
    assert business["perfect_order_pct"] == 100.0
    assert business["return_rate_pct"] == 0.0  # its only return was rejected
    assert selectors.kpis(window(customer_kind=Customer.Kind.CONSUMER))["orders"] == 6


def test_an_empty_cohort_gives_nulls_not_a_division_by_zero(db):
    assert selectors.kpis(window()) == {
        "orders": 0,
        "orders_shipped": 0,
        "orders_delivered": 0,
        "order_lead_time_hours": {"mean": None, "median": None, "p90": None},
        "on_time_delivery_pct": None,
        "order_accuracy_pct": None,
        "return_rate_pct": None,
        "fill_rate_pct": None,
        "backorder_rate_pct": None,
        "perfect_order_pct": None,
        "units_sold": 0,
        "units_returned": 0,
        "mis_picks_caught": 0,
    }


def test_a_cohort_where_nothing_shipped_has_null_shipping_figures(kpi_cohort):
    only_o5 = KpiFilter(start=datetime(2025, 3, 5, tzinfo=UTC), end=datetime(2025, 3, 6, tzinfo=UTC))
    figures = selectors.kpis(only_o5)
    assert figures["orders"] == 1
    assert figures["order_accuracy_pct"] is None
    assert figures["return_rate_pct"] is None
    assert figures["on_time_delivery_pct"] is None
    assert figures["perfect_order_pct"] is None
    assert figures["fill_rate_pct"] == 100.0
    assert figures["backorder_rate_pct"] == 0.0


def test_fill_rate_counts_units_reserved_at_receipt_not_later_allocations(kpi_cohort):
    # O4's backordered unit arriving later does not make the order filled at receipt.
    OrderLine.objects.filter(order=kpi_cohort.orders["O4"]).update(quantity_backordered=0)
    figures = selectors.kpis(window())
    assert figures["fill_rate_pct"] == 93.33
    assert figures["backorder_rate_pct"] == 14.29


def test_kpis_cost_six_queries_whatever_the_cohort(kpi_cohort, django_assert_num_queries):
    # the rollups' state, the order figures, lines, returns, perfect orders, scans (+ SET LOCAL work_mem on PostgreSQL)
    with django_assert_num_queries(6 + (connection.vendor == "postgresql")):
        selectors.kpis(window())
    with django_assert_num_queries(6 + (connection.vendor == "postgresql")):
        selectors.kpis(KpiFilter(start=day_start(date(2030, 1, 1)), end=day_start(date(2031, 1, 1))))


def test_the_previous_period_is_as_long_and_ends_where_this_one_starts():
    f = KpiFilter(start=datetime(2025, 3, 1, tzinfo=UTC), end=datetime(2025, 3, 8, tzinfo=UTC), channel_id=3)
    assert f.previous() == KpiFilter(
        start=datetime(2025, 2, 22, tzinfo=UTC), end=datetime(2025, 3, 1, tzinfo=UTC), channel_id=3
    )
    first = KpiFilter(start=datetime(1, 1, 2, tzinfo=UTC), end=datetime(9999, 1, 1, tzinfo=UTC))
    assert first.previous().start == datetime.min.replace(tzinfo=UTC)
