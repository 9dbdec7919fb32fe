"""Every read of the KPIs, the dashboard, the API and ``kpi_report`` (metrics reads everything, writes nothing).

- ``kpis``: the cohort KPIs of API.md ("Reporting") and their series.
- ``breakdowns``: returns by reason and stage cycle times of the same cohort.
- ``operations``: the state now — orders at risk, low and dead stock, suppliers' punctuality.
"""

from .breakdowns import STAGES, return_reasons, slowest_stage, stage_cycle_times
from .kpis import INTERVALS, MAX_SERIES_POINTS, KpiFilter, cohort_orders, day_start, kpi_series, kpis, series_length
from .operations import dead_stock, dead_stock_value, low_stock, orders_at_risk, supplier_on_time

__all__ = [
    "INTERVALS",
    "MAX_SERIES_POINTS",
    "STAGES",
    "KpiFilter",
    "cohort_orders",
    "day_start",
    "dead_stock",
    "dead_stock_value",
    "kpi_series",
    "kpis",
    "low_stock",
    "orders_at_risk",
    "return_reasons",
    "series_length",
    "slowest_stage",
    "stage_cycle_times",
    "supplier_on_time",
]
