"""The only writes of metrics: the KPI rollups (``KpiDay``), rebuilt from the orders by a beat task.

``kpi_rollups_refresh`` recomputes, in one transaction, the rollup rows of

- every closed day (before today, UTC) when ``full`` or on the first run;
- otherwise the days the rollups do not hold yet (from ``covered_until`` to
  yesterday) and the placed days of the orders that have an ``OrderEvent``
  newer than the last refresh: every change the services make to an order, its
  shipments and its returns writes one, in the same transaction.

What an event does not announce (a customer switched to business, a station
scan with no shipment event after it, a row edited by hand in the database)
reaches the rollups at the next full rebuild, which the beat runs nightly. An
event whose transaction commits after a refresh read the newest id but with a
smaller id is caught by re-reading the last ``WATERMARK_MARGIN`` ids each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import F, Max, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from orders.models import Order, OrderEvent

from .models import KpiDay, KpiRollupState
from .selectors.kpis import JOINED_FIGURES, KpiFilter, day_start, joined_sources

WATERMARK_MARGIN = 1000


@dataclass(frozen=True)
class RollupRefresh:
    covered_until: date
    days: int
    rows: int
    full: bool


def _spans(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as contiguous ``[first, end)`` spans."""
    spans: list[tuple[date, date]] = []
    for day in sorted(days):
        if spans and spans[-1][1] == day:
            spans[-1] = (spans[-1][0], day + timedelta(days=1))
        else:
            spans.append((day, day + timedelta(days=1)))
    return spans


def _placed_in(spans: list[tuple[date, date]] | None, path: str) -> Q:
    if spans is None:
        return Q()
    q = Q(pk__in=[])
    for first, end in spans:
        q |= Q(**{f"{path}placed_at__gte": day_start(first), f"{path}placed_at__lt": day_start(end)})
    return q


def _rollup_rows(*, before: date, spans: list[tuple[date, date]] | None) -> list[KpiDay]:
    """The ``KpiDay`` rows of the orders placed before ``before`` (and within ``spans`` unless ``None``)."""
    everything = KpiFilter(start=datetime.min.replace(tzinfo=UTC), end=day_start(before))
    rows: dict[tuple, dict[str, int]] = {}
    for qs, path, aggregates in joined_sources(everything):
        grouped = (
            qs.filter(_placed_in(spans, path))
            .values(
                k_day=TruncDate(f"{path}placed_at", tzinfo=UTC),
                k_channel=F(f"{path}channel_id"),
                k_kind=F(f"{path}customer__kind"),
            )
            .annotate(**aggregates)
            .order_by()
        )
        for row in grouped:  # one row per (day, channel, customer kind), not per order
            key = (row.pop("k_day"), row.pop("k_channel"), row.pop("k_kind"))
            rows.setdefault(key, dict.fromkeys(JOINED_FIGURES, 0)).update(row)
    return [
        KpiDay(day=day, channel_id=channel_id, customer_kind=kind, **counts)
        for (day, channel_id, kind), counts in rows.items()
    ]


@transaction.atomic
def kpi_rollups_refresh(*, today: date | None = None, full: bool = False) -> RollupRefresh:
    """Bring the rollups up to yesterday (UTC) and redo the days whose orders changed since the last refresh.

    Idempotent: a second run with nothing changed rewrites nothing but the state.
    Concurrent runs wait for each other on the state row.
    """
    now = timezone.now()
    today = today or now.astimezone(UTC).date()
    KpiRollupState.objects.get_or_create(pk=1)
    state = KpiRollupState.objects.select_for_update().get(pk=1)
    watermark = OrderEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    full = full or state.covered_until is None
    if full:
        spans = None
        KpiDay.objects.all().delete()
    else:
        changed = (
            Order.objects.filter(
                events__pk__gt=max(0, state.event_watermark - WATERMARK_MARGIN), placed_at__lt=day_start(today)
            )
            .annotate(k_day=TruncDate("placed_at", tzinfo=UTC))
            .values_list("k_day", flat=True)
            .order_by()
            .distinct()
        )
        days = set(changed)
        day = state.covered_until
        while day < today:
            days.add(day)
            day += timedelta(days=1)
        spans = _spans(list(days))
        stale = Q(day__gte=today) | Q(pk__in=[])
        for first, end in spans:
            stale |= Q(day__gte=first, day__lt=end)
        KpiDay.objects.filter(stale).delete()
    rows = _rollup_rows(before=today, spans=spans) if spans != [] else []
    KpiDay.objects.bulk_create(rows, batch_size=2000)
    state.covered_until = today
    state.event_watermark = watermark
    state.refreshed_at = now
    if full:
        state.rebuilt_at = now
    state.save()
    days_done = len({row.day for row in rows}) if full else sum((end - first).days for first, end in spans)
    return RollupRefresh(covered_until=today, days=days_done, rows=len(rows), full=full)
