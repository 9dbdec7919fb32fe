"""The KPI rollups give the figures the live queries give, and stay so as orders change (metrics.services)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from metrics import selectors, services, tasks
from metrics.models import KpiDay, KpiRollupState
from metrics.selectors import KpiFilter, day_start
from metrics.selectors.kpis import kpis_live
from orders.models import Customer

from .conftest import END, START, WEB_COHORT, WHOLE_COHORT, give_back

pytestmark = pytest.mark.django_db

AFTER = date(2025, 3, 10)  # "today" for the refresh: every day of the cohort is closed


def period(first: date, end: date, **kw) -> KpiFilter:
    return KpiFilter(start=day_start(first), end=day_start(end), **kw)


def filters(cohort) -> list[KpiFilter]:
    """Whole, per channel, per customer kind, by location (live), empty before, inside and after the data."""
    return [
        period(START, END),
        period(START, END, channel_id=cohort.web.pk),
        period(START, END, channel_id=cohort.market.pk),
        period(START, END, customer_kind=Customer.Kind.BUSINESS),
        period(START, END, customer_kind=Customer.Kind.CONSUMER, channel_id=cohort.web.pk),
        period(START, END, location_id=cohort.east.pk),
        period(date(2025, 2, 1), date(2025, 3, 12)),  # past the rollups' end: the tail is live
        period(date(2025, 3, 7), date(2025, 3, 8)),  # a day without orders
        period(date(2024, 1, 1), date(2024, 2, 1)),  # before any order
        period(date(2030, 1, 1), date(2030, 2, 1)),  # after: nothing rolled, nothing live
    ]


def test_the_rollups_give_the_live_figures_on_every_filter(kpi_cohort):
    services.kpi_rollups_refresh(today=AFTER)
    assert KpiDay.objects.exists()
    for f in filters(kpi_cohort):
        assert selectors.kpis(f) == kpis_live(f), f
    assert selectors.kpis(period(START, END)) == WHOLE_COHORT
    assert selectors.kpis(period(START, END, channel_id=kpi_cohort.web.pk)) == WEB_COHORT


def test_rollups_ending_inside_the_period_are_completed_live(kpi_cohort):
    services.kpi_rollups_refresh(today=date(2025, 3, 4))  # days 1-3 rolled, 4-7 live
    assert KpiRollupState.objects.get().covered_until == date(2025, 3, 4)
    assert set(KpiDay.objects.values_list("day", flat=True)) == {date(2025, 3, d) for d in (1, 2, 3)} | {
        date(2025, 2, 28)  # O9
    }
    assert selectors.kpis(period(START, END)) == WHOLE_COHORT
    assert selectors.kpis(period(START, END, channel_id=kpi_cohort.web.pk)) == WEB_COHORT


@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_series_from_rollups_equal_the_live_series(kpi_cohort, interval):
    live = selectors.kpi_series(period(START, END), interval)
    services.kpi_rollups_refresh(today=date(2025, 3, 5))
    assert selectors.kpi_series(period(START, END), interval) == live


def test_the_figures_come_from_the_rollups_in_three_queries(kpi_cohort, django_assert_num_queries):
    services.kpi_rollups_refresh(today=AFTER)
    # state, order figures, rollup sums (+ SET LOCAL work_mem on PostgreSQL): no line, return or scan is read
    with django_assert_num_queries(3 + (connection.vendor == "postgresql")):
        figures = selectors.kpis(period(START, END))
    assert figures == WHOLE_COHORT
    KpiDay.objects.filter(day=date(2025, 3, 1)).update(units_sold=1000)  # not how it happens: proves the source
    assert selectors.kpis(period(START, END))["units_sold"] == 1000 + 13 - 2  # O1 shipped 2 units


def test_a_change_after_a_refresh_reaches_the_rollups_at_the_next_one(kpi_cohort, monkeypatch):
    monkeypatch.setattr(services, "WATERMARK_MARGIN", 0)  # else the last 1000 events' days are redone too
    services.kpi_rollups_refresh(today=AFTER)
    give_back(kpi_cohort.orders["O1"], "A", 1, "wrong_item")  # a return.requested event on an order of 03-01
    f = period(START, END)
    assert selectors.kpis(f)["units_returned"] == 3  # as of the last refresh
    assert kpis_live(f)["units_returned"] == 4
    refresh = services.kpi_rollups_refresh(today=AFTER)
    assert (refresh.full, refresh.days) == (False, 1)  # only O1's day is redone
    assert selectors.kpis(f) == kpis_live(f)
    assert selectors.kpis(f)["order_accuracy_pct"] == 50.0  # (6 - O1 - O2 - O6) / 6


def test_a_refresh_with_nothing_new_rewrites_nothing(kpi_cohort, monkeypatch):
    monkeypatch.setattr(services, "WATERMARK_MARGIN", 0)
    services.kpi_rollups_refresh(today=AFTER)
    before = list(KpiDay.objects.values_list("pk", flat=True))
    refresh = services.kpi_rollups_refresh(today=AFTER)
    assert (refresh.days, refresh.rows) == (0, 0)
    assert list(KpiDay.objects.values_list("pk", flat=True)) == before


def test_the_next_day_rolls_yesterday_up(kpi_cohort, monkeypatch):
    monkeypatch.setattr(services, "WATERMARK_MARGIN", 0)
    services.kpi_rollups_refresh(today=date(2025, 3, 6))
    refresh = services.kpi_rollups_refresh(today=date(2025, 3, 7))
    assert refresh.days == 1
    assert KpiDay.objects.filter(day=date(2025, 3, 6)).exists()  # O6
    assert selectors.kpis(period(START, END)) == WHOLE_COHORT


def test_the_margin_redoes_the_days_of_the_last_events_again(kpi_cohort):
    services.kpi_rollups_refresh(today=AFTER)
    # an event committed late with an id below the watermark is not lost: the last ids are read again
    refresh = services.kpi_rollups_refresh(today=AFTER)
    assert refresh.days == 8  # every day with an order before AFTER: 02-28 (O9), 03-01 to 03-06, 03-08 (O8)
    assert selectors.kpis(period(START, END)) == WHOLE_COHORT


def test_what_no_event_announces_waits_for_the_nightly_rebuild(kpi_cohort):
    services.kpi_rollups_refresh(today=AFTER)
    Customer.objects.filter(email="buyer@corp.example").update(kind=Customer.Kind.CONSUMER)
    business = period(START, END, customer_kind=Customer.Kind.BUSINESS)
    assert selectors.kpis(business) != kpis_live(business)  # O3's units still counted as business's
    tasks.kpi_rollups_refresh_task.delay(full=True)
    assert selectors.kpis(business) == kpis_live(business)
    assert KpiRollupState.objects.get().rebuilt_at is not None


def test_an_empty_database_rolls_up_to_nothing(db):
    refresh = services.kpi_rollups_refresh(today=AFTER)
    assert (refresh.full, refresh.rows) == (True, 0)
    assert selectors.kpis(period(START, END)) == kpis_live(period(START, END))
    assert selectors.kpis(period(START, END))["orders"] == 0


def test_the_beat_refreshes_every_few_minutes_and_rebuilds_nightly():
    from config.celery import app

    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == tasks.kpi_rollups_refresh_task.name]
    assert sorted(e.get("kwargs", {}).get("full", False) for e in entries) == [False, True]
