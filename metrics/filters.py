"""Turn what a caller typed (API query, command line, dashboard form) into a ``KpiFilter``, or say why not.

One parser for the three callers, so a bad date reads the same everywhere:
``InvalidInput`` with the offending parameter as ``attr`` (a ``400`` in the API,
a ``CommandError`` in ``kpi_report``, a message on the dashboard).
"""

from __future__ import annotations

from datetime import date

from channels_app.models import SalesChannel
from inventory.errors import ErrorItem, InvalidInput
from inventory.models import Location
from orders.models import Customer

from .selectors import INTERVALS, MAX_SERIES_POINTS, KpiFilter, day_start, series_length


def _date(value, attr: str, errors: list[ErrorItem]) -> date | None:
    if isinstance(value, date):
        return value
    if value in (None, ""):
        errors.append(ErrorItem("required", f"{attr} is required (YYYY-MM-DD).", attr))
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(ErrorItem("invalid_date", f"{attr} must be a date as YYYY-MM-DD, not {value!r}.", attr))
        return None


def kpi_filter(
    *,
    start,
    end,
    channel: str | None = None,
    location: str | None = None,
    customer_kind: str | None = None,
    channel_id: int | None = None,
) -> KpiFilter:
    """Orders placed from ``start`` (a date, inclusive) to ``end`` (exclusive), UTC.

    ``channel``/``location`` are codes; ``channel_id`` (a channel key's own
    channel) wins over ``channel``, silently.
    """
    errors: list[ErrorItem] = []
    first, last = _date(start, "start", errors), _date(end, "end", errors)
    if first and last and last <= first:
        errors.append(ErrorItem("invalid_range", "end must be after start (the period is [start, end)).", "end"))
    if channel_id is None and channel:
        channel_id = SalesChannel.objects.filter(code=channel).values_list("pk", flat=True).first()
        if channel_id is None:
            errors.append(ErrorItem("unknown_channel", f"No channel with code {channel!r}.", "channel"))
    location_id = None
    if location:
        location_id = Location.objects.filter(code=location).values_list("pk", flat=True).first()
        if location_id is None:
            errors.append(ErrorItem("unknown_location", f"No location with code {location!r}.", "location"))
    if customer_kind and customer_kind not in Customer.Kind.values:
        errors.append(
            ErrorItem(
                "invalid_choice",
                f"customer_kind must be one of {', '.join(Customer.Kind.values)}.",
                "customer_kind",
            )
        )
    if errors:
        raise InvalidInput(errors)
    return KpiFilter(
        start=day_start(first),
        end=day_start(last),
        channel_id=channel_id,
        location_id=location_id,
        customer_kind=customer_kind or None,
    )


def series_interval(f: KpiFilter, interval: str | None) -> str:
    """A valid interval (``day`` by default) that does not cut the period into too many points."""
    interval = interval or "day"
    if interval not in INTERVALS:
        raise InvalidInput(
            [ErrorItem("invalid_choice", f"interval must be one of {', '.join(INTERVALS)}.", "interval")]
        )
    if series_length(f, interval) > MAX_SERIES_POINTS:
        raise InvalidInput(
            [
                ErrorItem(
                    "too_many_intervals",
                    f"At most {MAX_SERIES_POINTS} points per series: choose a longer interval or a shorter period.",
                    "interval",
                )
            ]
        )
    return interval
