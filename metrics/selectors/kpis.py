"""The KPIs of API.md ("Reporting"), computed in the database for a cohort of orders.

The cohort is the orders **placed** in ``[start, end)`` (UTC), not cancelled,
optionally of one channel, of one customer kind, or with a (live) shipment from
one location. Every figure is an aggregate computed by the database where its
facts live: order times on the orders, units and backorders on the lines,
returns on the return lines, caught mis-picks on the station scans, perfect
orders as the delivered orders that no anti-join disqualifies. Nothing loops
over orders in Python. ``kpis()`` costs five queries whatever the cohort's
size; ``kpi_series()`` the same five, grouped by interval.

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
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Trunc, TruncDate

from orders.models import Order, OrderLine, OrderStatus, Shipment, StationScan
from returns.models import ReturnLine, ReturnReason, ReturnStatus

from ..expressions import HoursBetween, PercentileCont

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
    "lead_median": PercentileCont("k_lead_hours", 0.5),
    "lead_p90": PercentileCont("k_lead_hours", 0.9),
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
    **dict.fromkeys(_ORDER_AGGREGATES, 0),
    "lead_mean": None,
    "lead_median": None,
    "lead_p90": None,
    **dict.fromkeys(_LINE_AGGREGATES, 0),
    **dict.fromkeys(_RETURN_AGGREGATES, 0),
    **dict.fromkeys(_PERFECT_AGGREGATES, 0),
    **dict.fromkeys(_SCAN_AGGREGATES, 0),
}


def _sources(f: KpiFilter) -> list[tuple[QuerySet, str, dict]]:
    """Each query of the KPIs: the rows, the path to the order's ``placed_at``, the aggregates."""
    return [
        (_orders(f), "placed_at", _ORDER_AGGREGATES),
        (_lines(f), "order__placed_at", _LINE_AGGREGATES),
        (_returns(f), "return_request__order__placed_at", _RETURN_AGGREGATES),
        (_perfect(f), "placed_at", _PERFECT_AGGREGATES),
        (_scans(f), "shipment__order__placed_at", _SCAN_AGGREGATES),
    ]


def kpis(f: KpiFilter) -> dict[str, Any]:
    """API.md's KPI object for the cohort (``null`` where a figure has nothing to divide by)."""
    raw = dict(_EMPTY_RAW)
    for qs, _, aggregates in _sources(f):
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


def kpi_series(f: KpiFilter, interval: str) -> list[dict[str, Any]]:
    """The same figures per day, week (from Monday) or month, oldest first, empty intervals included.

    Each point covers its interval clipped to ``[start, end)``, so a point equals
    ``kpis()`` of its own ``start``/``end``.
    """
    edges = _bucket_starts(f.start, f.end, interval)
    raw: dict[datetime, dict[str, Any]] = {edge: dict(_EMPTY_RAW) for edge in edges[:-1]}
    for qs, placed_at, aggregates in _sources(f):
        bucket = Trunc(placed_at, interval, tzinfo=UTC)
        for row in qs.values(k_bucket=bucket).annotate(**aggregates).order_by():
            raw[row.pop("k_bucket").astimezone(UTC)].update(row)
    return [
        {"start": max(lo, f.start), "end": min(hi, f.end), **figures_from_counts(raw[lo])}
        for lo, hi in zip(edges, edges[1:], strict=False)
    ]
