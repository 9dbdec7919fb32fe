"""``python manage.py kpi_report --start 2025-03-01 --end 2025-03-08 [--channel web] [--format table|csv|json]``.

Prints the KPIs of GET /api/v1/metrics/kpis/ for the same arguments: the JSON
is byte-for-byte what the API answers, the CSV what ``?format=csv`` answers.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from rest_framework.renderers import JSONRenderer

from inventory.errors import DomainError
from metrics import selectors
from metrics.api.renderers import csv_text, flatten
from metrics.api.serializers import kpi_data
from metrics.filters import kpi_filter

LABELS = {
    "orders": "Orders",
    "orders_shipped": "Orders shipped",
    "orders_delivered": "Orders delivered",
    "order_lead_time_hours_mean": "Order lead time, mean (h)",
    "order_lead_time_hours_median": "Order lead time, median (h)",
    "order_lead_time_hours_p90": "Order lead time, p90 (h)",
    "on_time_delivery_pct": "On-time delivery (%)",
    "order_accuracy_pct": "Order accuracy (%)",
    "return_rate_pct": "Return rate (%)",
    "fill_rate_pct": "Fill rate (%)",
    "backorder_rate_pct": "Backorder rate (%)",
    "perfect_order_pct": "Perfect orders (%)",
    "units_sold": "Units sold",
    "units_returned": "Units returned",
    "mis_picks_caught": "Mis-picks caught at the stations",
}


class Command(BaseCommand):
    help = "Print the KPIs of the orders placed in [start, end) (UTC), as the API computes them."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, help="First day, YYYY-MM-DD (UTC).")
        parser.add_argument("--end", required=True, help="Day after the last, YYYY-MM-DD (exclusive).")
        parser.add_argument("--channel", help="A channel's code.")
        parser.add_argument("--location", help="A location's code: orders with a shipment from it.")
        parser.add_argument("--customer-kind", choices=["consumer", "business"])
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")

    def handle(self, *args, **options):
        try:
            f = kpi_filter(
                start=options["start"],
                end=options["end"],
                channel=options["channel"],
                location=options["location"],
                customer_kind=options["customer_kind"],
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        data = kpi_data(selectors.kpis(f))
        if options["format"] == "json":
            self.stdout.write(JSONRenderer().render(data).decode())  # the API's own renderer: the same bytes
        elif options["format"] == "csv":
            self.stdout.write(csv_text([data]), ending="")
        else:
            self.stdout.write(f"KPIs of the orders placed {f.start:%Y-%m-%d} to {f.end:%Y-%m-%d} (end excluded, UTC)")
            width = max(len(label) for label in LABELS.values())
            for key, value in flatten(data).items():
                self.stdout.write(f"  {LABELS.get(key, key):<{width}}  {'-' if value is None else value}")
