"""Cohort breakdowns beside the headline KPIs: returns by reason and stage cycle times."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Case, Count, F, FloatField, Min, Q, Sum, When

from returns.models import ReturnReason

from ..expressions import HoursBetween, PercentileCont
from .kpis import KpiFilter, cohort_orders, cohort_q, hours, pct, returned_lines

# A stage runs from the time its first end is reached to the time its second end is. "placed" is the
# order's own placed_at (the cohort's anchor, as for the lead time); every other point is the FIRST event of
# its kind on the order's timeline: "received" when the order was validated and sourced (to ``received``,
# or to ``backordered`` when part of it could not be reserved), the shipment points when the order's first
# shipment reached them. An order is counted in a stage only when both ends happened (a 3PL shipment
# reports "shipped" without a pick or a pack, so it is not in those stages), and ends no earlier than it began.
STAGES: tuple[tuple[str, str], ...] = (
    ("placed", "received"),
    ("received", "picked"),
    ("picked", "packed"),
    ("packed", "shipped"),
    ("shipped", "delivered"),
)
STAGE_EVENTS: dict[str, tuple[str, ...]] = {
    "received": ("received", "backordered"),
    "picked": ("shipment.picked",),
    "packed": ("shipment.packed",),
    "shipped": ("shipment.shipped",),
    "delivered": ("shipment.delivered",),
}


def return_reasons(f: KpiFilter) -> list[dict[str, Any]]:
    """Units on the cohort's non-rejected return lines per reason, every reason listed, most units first."""
    rows = (
        returned_lines()
        .filter(cohort_q(f, "return_request__order__"))
        .order_by()
        .values("reason")
        .annotate(units=Sum("quantity"), lines=Count("pk"))
    )
    found = {row["reason"]: row for row in rows}
    total = sum(row["units"] for row in found.values())
    result = [
        {
            "reason": reason.value,
            "label": reason.label,
            "units": found.get(reason.value, {}).get("units", 0),
            "lines": found.get(reason.value, {}).get("lines", 0),
            "pct": pct(found.get(reason.value, {}).get("units", 0), total),
        }
        for reason in ReturnReason
    ]
    return sorted(result, key=lambda r: -r["units"])


def stage_cycle_times(f: KpiFilter) -> list[dict[str, Any]]:
    """Mean and p90 hours of each stage over the cohort's orders that went through it (one query)."""
    points = {"placed": F("placed_at")}
    for point, types in STAGE_EVENTS.items():
        points[point] = Min("events__at", filter=Q(events__type__in=types))
    per_order = cohort_orders(f).annotate(**{f"t_{name}": expr for name, expr in points.items()})
    aggregates = {}
    for begin, end in STAGES:
        # A stage that seems to end before it began (back-dated data, a clock off) is left out, not counted < 0.
        duration = Case(
            When(**{f"t_{end}__gte": F(f"t_{begin}")}, then=HoursBetween(F(f"t_{end}"), F(f"t_{begin}"))),
            default=None,
            output_field=FloatField(),
        )
        aggregates[f"{begin}_{end}_orders"] = Count(duration)
        aggregates[f"{begin}_{end}_mean"] = Avg(duration)
        aggregates[f"{begin}_{end}_p90"] = PercentileCont(duration, 0.9)
    raw = per_order.aggregate(**aggregates)
    return [
        {
            "stage": f"{begin}_{end}",
            "from": begin,
            "to": end,
            "orders": raw[f"{begin}_{end}_orders"],
            "mean_hours": hours(raw[f"{begin}_{end}_mean"]),
            "p90_hours": hours(raw[f"{begin}_{end}_p90"]),
        }
        for begin, end in STAGES
    ]


def slowest_stage(stages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The stage with the longest mean (``None`` when no stage has a measurement)."""
    measured = [s for s in stages if s["mean_hours"] is not None]
    return max(measured, key=lambda s: s["mean_hours"]) if measured else None
