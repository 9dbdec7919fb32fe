"""``?format=csv``: the KPIs as a spreadsheet, one row per figure set (nested figures become columns)."""

from __future__ import annotations

import csv
import io
from typing import Any

from rest_framework.renderers import BaseRenderer


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"order_lead_time_hours": {"mean": 1}}`` -> ``{"order_lead_time_hours_mean": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}_"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV with a header line; ``None`` becomes an empty cell."""
    flat = [flatten(row) for row in rows]
    out = io.StringIO()
    if flat:
        writer = csv.DictWriter(out, fieldnames=list(flat[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in flat)
    return out.getvalue()


class KpiCSVRenderer(BaseRenderer):
    """A KPI object is one row; a series (``{"results": [...]}``) is one row per interval."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        rows = data["results"] if isinstance(data, dict) and "results" in data else [data]
        return csv_text(rows).encode(self.charset)
