"""The manager's dashboard in the back office: ``/admin/dashboard/`` (staff only, through the admin's login)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from channels_app.models import SalesChannel
from inventory.errors import InvalidInput
from inventory.models import Location

from .dashboard import dashboard, default_period
from .filters import kpi_filter, series_interval
from .selectors import INTERVALS

PRESETS = ((7, "Last 7 days"), (30, "Last 30 days"), (90, "Last 90 days"), (365, "Last 12 months"))


def dashboard_view(request):
    now = timezone.now()
    default_start, default_end = default_period(now.date())
    params = request.GET
    try:
        f = kpi_filter(
            start=params.get("start") or default_start,
            end=params.get("end") or default_end,
            channel=params.get("channel") or None,
            location=params.get("location") or None,
            customer_kind=params.get("customer_kind") or None,
        )
        interval = series_interval(f, params["interval"]) if params.get("interval") else None
    except InvalidInput as exc:
        for item in exc.items:
            messages.error(request, item.detail)
        f, interval = kpi_filter(start=default_start, end=default_end), None
    data = dashboard(f=f, now=now, interval=interval)
    end_inclusive = (f.end - timedelta(days=1)).date()
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        **data,
        "filter": f,
        "end_inclusive": end_inclusive,
        "channels": SalesChannel.objects.order_by("code").values_list("code", "name"),
        "locations": Location.objects.order_by("code").values_list("code", "name"),
        "selected": {k: params.get(k, "") for k in ("channel", "location", "customer_kind", "interval")},
        "intervals": INTERVALS,
        "presets": [
            {"label": label, "start": default_period(now.date(), days)[0], "end": default_period(now.date(), days)[1]}
            for days, label in PRESETS
        ],
    }
    return TemplateResponse(request, "metrics/dashboard.html", context)
