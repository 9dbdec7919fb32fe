"""What the manager's dashboard shows, gathered from the selectors (read only, a fixed number of queries).

The view parses the filters and renders; this module decides which figures
sit side by side: the headline KPIs of a period against the period of the
same length just before it, the series behind the charts, and the lists that
need attention now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.urls import NoReverseMatch, reverse

from . import selectors
from .selectors import KpiFilter
from .selectors.operations import DEAD_STOCK_DAYS

LIST_LIMIT = 15

# (key in the KPI object, label, unit, is a higher value better?)
HEADLINES: tuple[tuple[str, str, str, bool], ...] = (
    ("orders", "Orders", "", True),
    ("order_lead_time_hours.mean", "Order lead time (mean)", "h", False),
    ("order_lead_time_hours.p90", "Order lead time (p90)", "h", False),
    ("on_time_delivery_pct", "On-time delivery", "%", True),
    ("order_accuracy_pct", "Order accuracy", "%", True),
    ("return_rate_pct", "Return rate", "%", False),
    ("fill_rate_pct", "Fill rate", "%", True),
    ("backorder_rate_pct", "Backorder rate", "%", False),
    ("perfect_order_pct", "Perfect orders", "%", True),
    ("units_sold", "Units sold", "", True),
    ("mis_picks_caught", "Mis-picks caught", "", False),
)


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    unit: str
    current: Any
    previous: Any
    higher_is_better: bool

    @property
    def delta(self):
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 2)

    @property
    def direction(self) -> str:
        """``up``, ``down``, ``flat``, or ``none`` when either period has no figure."""
        if self.delta is None:
            return "none"
        return "up" if self.delta > 0 else "down" if self.delta < 0 else "flat"

    @property
    def verdict(self) -> str:
        """``good``, ``bad`` or ``neutral``: whether the move is the one a manager wants."""
        if self.direction in ("none", "flat"):
            return "neutral"
        return "good" if (self.direction == "up") == self.higher_is_better else "bad"


def _pick(figures: dict, dotted: str):
    value = figures
    for part in dotted.split("."):
        value = value[part]
    return value


def headlines(current: dict, previous: dict, keys: tuple[str, ...] | None = None) -> list[Headline]:
    """The headline cards: each figure now and in the previous period (``keys`` narrows them)."""
    return [
        Headline(key, label, unit, _pick(current, key), _pick(previous, key), better)
        for key, label, unit, better in HEADLINES
        if keys is None or key in keys
    ]


def chart_interval(f: KpiFilter) -> str:
    days = (f.end - f.start).days
    return "day" if days <= 45 else "week" if days <= 200 else "month"


def _admin_url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def dashboard(*, f: KpiFilter, now: datetime, interval: str | None = None) -> dict[str, Any]:
    """Everything the dashboard template and its charts need."""
    interval = interval or chart_interval(f)
    before = f.previous()
    series = selectors.kpi_series(f, interval)
    stages = selectors.stage_cycle_times(f)
    reasons = selectors.return_reasons(f)
    suppliers = selectors.supplier_on_time(start=f.start, end=f.end, location_id=f.location_id)
    suppliers_before = selectors.supplier_on_time(start=before.start, end=before.end, location_id=f.location_id)
    at_risk = selectors.orders_at_risk(today=now.date(), channel_id=f.channel_id, location_id=f.location_id)
    order_url = _admin_url("admin:orders_order_change", 0)
    return {
        "interval": interval,
        "previous": before,
        "headlines": [
            *headlines(selectors.kpis(f), selectors.kpis(before)),
            Headline(
                "supplier_on_time_pct",
                "Supplier on-time",
                "%",
                suppliers["on_time_pct"],
                suppliers_before["on_time_pct"],
                True,
            ),
        ],
        "stages": stages,
        "slowest_stage": selectors.slowest_stage(stages),
        "reasons": reasons,
        "at_risk": [
            {"order": order, "url": order_url.replace("/0/", f"/{order.pk}/") if order_url else None}
            for order in at_risk[:LIST_LIMIT]
        ],
        "low_stock": list(selectors.low_stock(location_id=f.location_id)[:LIST_LIMIT]),
        "dead_stock": list(selectors.dead_stock(now=now, location_id=f.location_id)[:LIST_LIMIT]),
        "dead_stock_value": selectors.dead_stock_value(now=now, location_id=f.location_id),
        "dead_stock_days": DEAD_STOCK_DAYS,
        "suppliers": suppliers,
        "chart_data": {
            "interval": interval,
            "labels": [point["start"].date().isoformat() for point in series],
            "orders": [point["orders"] for point in series],
            "lead_mean": [point["order_lead_time_hours"]["mean"] for point in series],
            "lead_p90": [point["order_lead_time_hours"]["p90"] for point in series],
            "on_time": [point["on_time_delivery_pct"] for point in series],
            "accuracy": [point["order_accuracy_pct"] for point in series],
            "return_rate": [point["return_rate_pct"] for point in series],
            "reasons": {"labels": [r["label"] for r in reasons], "units": [r["units"] for r in reasons]},
            "stages": {
                "labels": [f"{s['from']} → {s['to']}" for s in stages],
                "mean": [s["mean_hours"] for s in stages],
                "p90": [s["p90_hours"] for s in stages],
            },
        },
    }


def default_period(today: date, days: int = 30) -> tuple[date, date]:
    """The last ``days`` days including today: ``[today - days + 1, today + 1)``."""
    end = today + timedelta(days=1)
    return end - timedelta(days=days), end
