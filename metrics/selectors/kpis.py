"""The KPIs of API.md ("Reporting"), computed in the database for a cohort of orders.

The cohort is the orders **placed** in ``[start, end)`` (UTC), not cancelled,
optionally of one channel, of one customer kind, or with a (live) shipment from
one location. Every figure is an aggregate computed by the database where its
facts live: order times on the orders, units and backorders on the lines,
returns on the return lines, caught mis-picks on the station scans, perfect
orders as the delivered orders that no anti-join disqualifies. Nothing loops
over orders in Python.

Two kinds of figures, read two ways:

- *order figures* (orders, delivered, on time, the lead times' mean, median and
  p90) come from the orders alone: always live, one scan of a narrow covering
  index (``order_kpi_placed_idx``), so they are exact to the moment.
- *joined figures* (units, shipped, backorders, returns, accuracy, perfect
  orders, mis-picks) need the lines, returns, shipments and scans. For the whole
  days the rollups hold (``metrics.models.KpiDay``, refreshed every few minutes
  by ``metrics.tasks``) they are sums of the rollups, as of their last refresh;
  the rest (today, days the rollups do not cover yet, a location filter, a
  period not cut at midnight) is computed live with the same queries.

``kpis_live()`` computes everything live: it is what the rollups must equal.

Definitions (API.md is the contract; where it is silent, what is written here):

- *shipped*: at least one unit of the order has shipped.
- *delivered*: the order is delivered (``Order.delivered_at``, its last shipment's delivery).
- *on time*: delivered on or before ``promised_delivery_date`` (UTC date). An
  order without a promise is left out of ``on_time_delivery_pct`` and counts as
  on time for ``perfect_order_pct`` (nothing promised, nothing broken).
- *had a backorder*: some unit could not be reserved when the order was
  received (``quantity_filled_at_receipt < quantity``) or is backordered now.
- *return*: a return line with at least one unit whose return was not rejected.
- *complete in one delivery*: every ordered unit shipped, in a single shipment.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Avg, Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Trunc, TruncDate

from orders.models import Order, OrderLine, OrderStatus, Shipment, StationScan
from returns.models import ReturnLine, ReturnReason, ReturnStatus

from ..expressions import HoursBetween, PercentilesCont
from ..models import KpiDay, KpiRollupState

INTERVALS = ("day", "week", "month")
MAX_SERIES_POINTS = 400
PICKING_ERROR_REASONS = (ReturnReason.WRONG_ITEM, ReturnReason.MISSING_ITEM)


@dataclass(frozen=True)
class KpiFilter:
    """Which orders a KPI speaks about: placed in ``[start, end)``, and optionally narrowed."""

    start: datetime
    end: datetime
    channel_id: int | None = None
    location_id: int | None = None
    customer_kind: str | None = None

    def previous(self) -> KpiFilter:
        """The period of the same length just before this one (for "vs previous period")."""
        length = self.end - self.start
        try:
            start = self.start - length
        except OverflowError:  # a period reaching back to year 1 has no "before"
            start = datetime.min.replace(tzinfo=UTC)
        return KpiFilter(
            start=start,
            end=self.start,
            channel_id=self.channel_id,
            location_id=self.location_id,
            customer_kind=self.customer_kind,
        )


def day_start(day: date) -> datetime:
    """Midnight UTC of a date: the API's ``start``/``end`` are dates, the cohort is ``[start, end)``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- the cohort and what is known about each of its orders -------------------------------------------------


def cohort_q(f: KpiFilter, path: str = "") -> Q:
    """The cohort as a condition on the order reached through ``path`` (``""``, ``"order__"``, ...).

    Filtering through the join (not ``order__in=<subquery>``) lets PostgreSQL
    use the placed-time index and hash-join the lines, returns and scans to it.
    """
    q = Q(**{f"{path}placed_at__gte": f.start, f"{path}placed_at__lt": f.end}) & ~Q(
        **{f"{path}status": OrderStatus.CANCELLED}
    )
    if f.channel_id is not None:
        q &= Q(**{f"{path}channel_id": f.channel_id})
    if f.customer_kind:
        q &= Q(**{f"{path}customer__kind": f.customer_kind})
    if f.location_id is not None:
        order_ref = OuterRef("pk") if not path else OuterRef(f"{path.removesuffix('__')}_id")
        q &= Q(
            Exists(
                Shipment.objects.filter(order=order_ref, location_id=f.location_id).exclude(
                    status=Shipment.Status.CANCELLED
                )
            )
        )
    return q


def cohort_orders(f: KpiFilter) -> QuerySet[Order]:
    return Order.objects.filter(cohort_q(f)).order_by()


def returned_lines(**filters) -> QuerySet[ReturnLine]:
    """Return lines that count: at least one unit, on a return that was not rejected."""
    return ReturnLine.objects.filter(quantity__gt=0, **filters).exclude(return_request__status=ReturnStatus.REJECTED)


# Every fact is computed where it lives, in a query of its own, so each one is a plain aggregate over a
# join (no per-order correlated subquery in the SELECT list, which PostgreSQL would run once per order).

_DELIVERED = Q(delivered_at__isnull=False)
_PROMISED = _DELIVERED & Q(promised_delivery_date__isnull=False)
_ON_TIME = _PROMISED & Q(k_delivered_on__lte=F("promised_delivery_date"))
_BACKORDERED_LINE = Q(quantity_filled_at_receipt__lt=F("quantity")) | Q(quantity_backordered__gt=0)


def _orders(f: KpiFilter) -> QuerySet[Order]:
    return cohort_orders(f).annotate(
        k_lead_hours=HoursBetween(F("delivered_at"), F("placed_at")),
        k_delivered_on=TruncDate("delivered_at", tzinfo=UTC),
    )


_ORDER_AGGREGATES = {
    "orders": Count("pk"),
    "orders_delivered": Count("pk", filter=_DELIVERED),
    "lead_mean": Avg("k_lead_hours"),
    "lead_percentiles": PercentilesCont("k_lead_hours", (0.5, 0.9)),  # median and p90, one sort
    "delivered_promised": Count("pk", filter=_PROMISED),
    "delivered_on_time": Count("pk", filter=_ON_TIME),
}


def _lines(f: KpiFilter) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(cohort_q(f, "order__")).order_by()


_LINE_AGGREGATES = {
    "units_ordered": Coalesce(Sum("quantity"), 0),
    "units_filled": Coalesce(Sum("quantity_filled_at_receipt"), 0),
    "units_sold": Coalesce(Sum("quantity_shipped"), 0),
    "orders_shipped": Count("order_id", distinct=True, filter=Q(quantity_shipped__gt=0)),
    "orders_backordered": Count("order_id", distinct=True, filter=_BACKORDERED_LINE),
}


def _returns(f: KpiFilter) -> QuerySet[ReturnLine]:
    return returned_lines().filter(cohort_q(f, "return_request__order__")).order_by()


_RETURN_AGGREGATES = {
    "units_returned": Coalesce(Sum("quantity"), 0),
    # A return needs a shipment, so an order with a return line is a shipped order.
    "shipped_with_picking_error": Count(
        "return_request__order_id", distinct=True, filter=Q(reason__in=PICKING_ERROR_REASONS)
    ),
}


def _perfect(f: KpiFilter) -> QuerySet[Order]:
    """Delivered, on time (or nothing promised), every unit in one parcel, nothing ever backordered, no return."""
    lines = OrderLine.objects.filter(order=OuterRef("pk"))
    parcels = Shipment.objects.filter(shipped_at__isnull=False).exclude(status=Shipment.Status.CANCELLED)
    second_parcel = parcels.filter(order=OuterRef("pk")).filter(
        Exists(parcels.filter(order=OuterRef("order_id"), pk__lt=OuterRef("pk")))
    )
    return (
        _orders(f)
        .filter(_DELIVERED & (Q(promised_delivery_date__isnull=True) | _ON_TIME))
        .exclude(Exists(lines.filter(_BACKORDERED_LINE | Q(quantity_shipped__lt=F("quantity")))))
        .exclude(Exists(second_parcel))
        .exclude(Exists(returned_lines(return_request__order=OuterRef("pk"))))
    )


_PERFECT_AGGREGATES = {"orders_perfect": Count("pk")}


def _scans(f: KpiFilter) -> QuerySet[StationScan]:
    return StationScan.objects.filter(cohort_q(f, "shipment__order__"), outcome__in=StationScan.MIS_PICKS).order_by()


_SCAN_AGGREGATES = {"mis_picks_caught": Count("pk")}


# --- rounding and assembly ----------------------------------------------------------------------------------


def pct(numerator: int, denominator: int) -> float | None:
    """``100 × n / d`` rounded half-up to 2 decimals; ``None`` (JSON ``null``) when ``d`` is 0."""
    if not denominator:
        return None
    return float((Decimal(100 * numerator) / Decimal(denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def hours(value: float | None) -> float | None:
    """Hours rounded half-up to 1 decimal."""
    if value is None:
        return None
    return float(Decimal(repr(float(value))).quantize(Decimal("0.1"), ROUND_HALF_UP))


def figures_from_counts(raw: dict[str, Any]) -> dict[str, Any]:
    """The contract's figures from the raw counts of one cohort (or one interval of it)."""
    return {
        "orders": raw["orders"],
        "orders_shipped": raw["orders_shipped"],
        "orders_delivered": raw["orders_delivered"],
        "order_lead_time_hours": {
            "mean": hours(raw["lead_mean"]),
            "median": hours(raw["lead_median"]),
            "p90": hours(raw["lead_p90"]),
        },
        "on_time_delivery_pct": pct(raw["delivered_on_time"], raw["delivered_promised"]),
        "order_accuracy_pct": pct(raw["orders_shipped"] - raw["shipped_with_picking_error"], raw["orders_shipped"]),
        "return_rate_pct": pct(raw["units_returned"], raw["units_sold"]),
        "fill_rate_pct": pct(raw["units_filled"], raw["units_ordered"]),
        "backorder_rate_pct": pct(raw["orders_backordered"], raw["orders"]),
        "perfect_order_pct": pct(raw["orders_perfect"], raw["orders_delivered"]),
        "units_sold": raw["units_sold"],
        "units_returned": raw["units_returned"],
        "mis_picks_caught": raw["mis_picks_caught"],
    }


_EMPTY_RAW = {
    **{name: 0 for name in _ORDER_AGGREGATES if name != "lead_percentiles"},
    "lead_mean": None,
    "lead_median": None,
    "lead_p90": None,
    **dict.fromkeys(_LINE_AGGREGATES, 0),
    **dict.fromkeys(_RETURN_AGGREGATES, 0),
    **dict.fromkeys(_PERFECT_AGGREGATES, 0),
    **dict.fromkeys(_SCAN_AGGREGATES, 0),
}


def joined_sources(f: KpiFilter) -> list[tuple[QuerySet, str, dict]]:
    """The queries of the joined figures: the rows, the path from them to the order, the aggregates.

    These are what ``KpiDay`` holds, one column per aggregate.
    """
    return [
        (_lines(f), "order__", _LINE_AGGREGATES),
        (_returns(f), "return_request__order__", _RETURN_AGGREGATES),
        (_perfect(f), "", _PERFECT_AGGREGATES),
        (_scans(f), "shipment__order__", _SCAN_AGGREGATES),
    ]


JOINED_FIGURES = (*_LINE_AGGREGATES, *_RETURN_AGGREGATES, *_PERFECT_AGGREGATES, *_SCAN_AGGREGATES)


def _order_figures(qs: QuerySet, **group) -> Any:
    """The order figures of ``qs`` (grouped by ``group`` when given), with room to sort the lead times in memory.

    A year of lead times (a million floats) does not fit PostgreSQL's default
    4 MB ``work_mem``: the percentile would sort on disk. ``SET LOCAL`` lasts to
    the end of this transaction only.
    """

    def compute():
        if group:
            return [_unpack(row) for row in qs.values(**group).annotate(**_ORDER_AGGREGATES).order_by()]
        return _unpack(qs.aggregate(**_ORDER_AGGREGATES))

    if connection.vendor != "postgresql":
        return compute()
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        return compute()


def _unpack(row: dict[str, Any]) -> dict[str, Any]:
    row["lead_median"], row["lead_p90"] = row.pop("lead_percentiles")
    return row


def _rolled_days(f: KpiFilter) -> tuple[date, date] | None:
    """The whole days of ``f`` the rollups hold, as ``[first, end)``; ``None`` when they hold none of it.

    The rollups have no location, so a location filter is always live; a
    period not starting at midnight is live too (the API's periods always do).
    """
    if f.location_id is not None or f.start != day_start(f.start.date()):
        return None
    covered_until = KpiRollupState.objects.values_list("covered_until", flat=True).first()
    if covered_until is None:
        return None
    first, end = f.start.date(), min(covered_until, f.end.date())
    return (first, end) if first < end else None


def _rollups(f: KpiFilter, first: date, end: date) -> QuerySet[KpiDay]:
    qs = KpiDay.objects.filter(day__gte=first, day__lt=end).order_by()
    if f.channel_id is not None:
        qs = qs.filter(channel_id=f.channel_id)
    if f.customer_kind:
        qs = qs.filter(customer_kind=f.customer_kind)
    return qs


_ROLLUP_SUMS = {name: Coalesce(Sum(name), 0) for name in JOINED_FIGURES}


def _live_part(f: KpiFilter, rolled: tuple[date, date] | None) -> KpiFilter | None:
    """What is left of ``f`` after the rolled days (they start it): computed live."""
    if rolled is None:
        return f
    start = day_start(rolled[1])
    return replace(f, start=start) if start < f.end else None


def kpis(f: KpiFilter) -> dict[str, Any]:
    """API.md's KPI object for the cohort (``null`` where a figure has nothing to divide by).

    Three queries when the rollups hold the whole period (state, order figures,
    rollup sums; and ``SET LOCAL work_mem`` on PostgreSQL), four more for the
    part computed live.
    """
    raw = dict(_EMPTY_RAW)
    rolled = _rolled_days(f)
    raw.update(_order_figures(_orders(f)))
    if rolled is not None:
        raw.update(_rollups(f, *rolled).aggregate(**_ROLLUP_SUMS))
    live = _live_part(f, rolled)
    if live is not None:
        for qs, _, aggregates in joined_sources(live):
            for name, value in qs.aggregate(**aggregates).items():
                raw[name] += value
    return figures_from_counts(raw)


def kpis_live(f: KpiFilter) -> dict[str, Any]:
    """The same figures computed from the orders, lines, returns and scans alone, ignoring the rollups."""
    raw = dict(_EMPTY_RAW)
    raw.update(_order_figures(_orders(f)))
    for qs, _, aggregates in joined_sources(f):
        raw.update(qs.aggregate(**aggregates))
    return figures_from_counts(raw)


# --- series ------------------------------------------------------------------------------------------------


def _bucket_starts(start: datetime, end: datetime, interval: str) -> list[datetime]:
    """The starts of the day/week (Monday)/month buckets that overlap ``[start, end)``, as the database truncates."""
    if interval == "day":
        first, step = day_start(start.date()), lambda d: d + timedelta(days=1)
    elif interval == "week":
        first, step = day_start(start.date() - timedelta(days=start.weekday())), lambda d: d + timedelta(days=7)
    elif interval == "month":
        first = day_start(start.date().replace(day=1))

        def step(d: datetime) -> datetime:
            return d + timedelta(days=calendar.monthrange(d.year, d.month)[1])
    else:
        raise ValueError(f"interval must be one of {INTERVALS}")
    starts, current = [], first
    while current < end:
        starts.append(current)
        current = step(current)
    starts.append(current)  # the end of the last bucket
    return starts


def series_length(f: KpiFilter, interval: str) -> int:
    return len(_bucket_starts(f.start, f.end, interval)) - 1


def _add(raw: dict[str, Any], counts: dict[str, int]) -> None:
    for name, value in counts.items():
        raw[name] += value


def kpi_series(f: KpiFilter, interval: str) -> list[dict[str, Any]]:
    """The same figures per day, week (from Monday) or month, oldest first, empty intervals included.

    Each point covers its interval clipped to ``[start, end)``, so a point equals
    ``kpis()`` of its own ``start``/``end``.
    """
    edges = _bucket_starts(f.start, f.end, interval)
    raw: dict[datetime, dict[str, Any]] = {edge: dict(_EMPTY_RAW) for edge in edges[:-1]}
    for row in _order_figures(_orders(f), k_bucket=Trunc("placed_at", interval, tzinfo=UTC)):
        raw[row.pop("k_bucket").astimezone(UTC)].update(row)
    rolled = _rolled_days(f)
    if rolled is not None:
        by_bucket = _rollups(f, *rolled).values(k_bucket=Trunc("day", interval)).annotate(**_ROLLUP_SUMS)
        for row in by_bucket.order_by():
            _add(raw[day_start(row.pop("k_bucket"))], row)
    live = _live_part(f, rolled)
    if live is not None:
        for qs, path, aggregates in joined_sources(live):
            bucket = Trunc(f"{path}placed_at", interval, tzinfo=UTC)
            for row in qs.values(k_bucket=bucket).annotate(**aggregates).order_by():
                _add(raw[row.pop("k_bucket").astimezone(UTC)], row)
    return [
        {"start": max(lo, f.start), "end": min(hi, f.end), **figures_from_counts(raw[lo])}
        for lo, hi in zip(edges, edges[1:], strict=False)
    ]
