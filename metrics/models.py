"""The KPI rollups: per placed day, the counts that need joins (lines, returns, scans), kept by a beat task.

``metrics`` reads everything and writes only these. ``metrics.services.kpi_rollups_refresh``
rebuilds them; ``metrics.selectors.kpis`` sums them for the whole days they hold and
computes the rest live (today, and anything they do not cover).
"""

from django.db import models


class KpiDay(models.Model):
    """The join-based KPI counts of the orders placed on ``day`` (UTC) in one channel by one kind of customer.

    Every column is a count or a sum over orders, each order in exactly one row,
    so the rows of any set of days add up to the figure of those days.
    """

    day = models.DateField()
    channel = models.ForeignKey("channels_app.SalesChannel", on_delete=models.CASCADE, related_name="+")
    customer_kind = models.CharField(max_length=16)
    units_ordered = models.BigIntegerField(default=0)
    units_filled = models.BigIntegerField(default=0)
    units_sold = models.BigIntegerField(default=0)
    orders_shipped = models.BigIntegerField(default=0)
    orders_backordered = models.BigIntegerField(default=0)
    units_returned = models.BigIntegerField(default=0)
    shipped_with_picking_error = models.BigIntegerField(default=0)
    orders_perfect = models.BigIntegerField(default=0)
    mis_picks_caught = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["day", "channel", "customer_kind"]
        constraints = [
            models.UniqueConstraint(fields=["day", "channel", "customer_kind"], name="kpi_day_once"),
        ]

    def __str__(self) -> str:
        return f"{self.day} channel {self.channel_id} {self.customer_kind}"


class KpiRollupState(models.Model):
    """One row: up to which day the rollups hold every order, and the last order event they have seen."""

    covered_until = models.DateField(
        null=True, blank=True, help_text="Days before this one (UTC) are in the rollups; from it on, live."
    )
    event_watermark = models.BigIntegerField(default=0, help_text="The last OrderEvent id the rollups account for.")
    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True, help_text="The last full rebuild.")

    def __str__(self) -> str:
        return f"KPI rollups until {self.covered_until}"
