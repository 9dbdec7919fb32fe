"""The KPIs per day, week and month: grouped in the database, every interval present, each equal to its own window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from metrics import selectors
from metrics.selectors import KpiFilter, day_start

from .conftest import END, START

pytestmark = pytest.mark.django_db


def window(**kw) -> KpiFilter:
    return KpiFilter(start=day_start(START), end=day_start(END), **kw)


@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_each_point_equals_the_kpis_of_its_own_interval(kpi_cohort, interval):
    points = selectors.kpi_series(window(), interval)
    assert points[0]["start"] == day_start(START)
    assert points[-1]["end"] == day_start(END)
    for before, after in zip(points, points[1:], strict=False):
        assert before["end"] == after["start"]  # contiguous, nothing missed or counted twice
    for point in points:
        figures = {k: v for k, v in point.items() if k not in ("start", "end")}
        assert figures == selectors.kpis(KpiFilter(start=point["start"], end=point["end"]))
    assert sum(p["orders"] for p in points) == 7


def test_daily_points_by_hand(kpi_cohort):
    points = selectors.kpi_series(window(), "day")
    assert [p["start"].day for p in points] == [1, 2, 3, 4, 5, 6, 7]
    assert [p["orders"] for p in points] == [1, 2, 1, 1, 1, 1, 0]  # O1 | O2 O10 | O3 | O4 | O5 | O6 | -
    assert [p["order_lead_time_hours"]["mean"] for p in points] == [48.0, 51.0, 36.0, None, None, 36.0, None]
    assert [p["on_time_delivery_pct"] for p in points] == [100.0, 0.0, None, None, None, 100.0, None]
    assert points[6]["fill_rate_pct"] is None  # an empty day: nulls, no division by zero


def test_weeks_start_on_monday_and_are_clipped_to_the_period(kpi_cohort):
    points = selectors.kpi_series(window(), "week")
    # 2025-03-01 is a Saturday: its week (from Monday 02-24) is cut to [03-01, 03-03).
    assert [(p["start"].date().isoformat(), p["end"].date().isoformat(), p["orders"]) for p in points] == [
        ("2025-03-01", "2025-03-03", 3),
        ("2025-03-03", "2025-03-08", 4),
    ]
    assert points[0]["order_lead_time_hours"] == {"mean": 50.0, "median": 48.0, "p90": 72.0}  # 48, 78, 24


def test_series_of_the_channel_filter(kpi_cohort):
    points = selectors.kpi_series(window(channel_id=kpi_cohort.market.pk), "month")
    assert len(points) == 1
    assert points[0]["orders"] == 1
    assert points[0]["start"] == datetime(2025, 3, 1, tzinfo=UTC)


def test_an_empty_period_has_every_interval_with_nulls(db):
    points = selectors.kpi_series(window(), "day")
    assert len(points) == 7
    assert {p["orders"] for p in points} == {0}
    assert {p["return_rate_pct"] for p in points} == {None}


def test_a_series_costs_six_queries_whatever_its_length(kpi_cohort, django_assert_num_queries):
    # the rollups' state, the order figures, lines, returns, perfect orders, scans (+ SET LOCAL work_mem on PostgreSQL)
    with django_assert_num_queries(6 + (connection.vendor == "postgresql")):
        selectors.kpi_series(window(), "day")
