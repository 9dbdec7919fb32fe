"""The shapes of API.md "Reporting" (render and document only; the figures come from ``metrics.selectors``)."""

from __future__ import annotations

from rest_framework import serializers

from ..selectors import INTERVALS


class LeadTimeSerializer(serializers.Serializer):
    mean = serializers.FloatField(allow_null=True)
    median = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)


class KpiSerializer(serializers.Serializer):
    orders = serializers.IntegerField(help_text="Orders placed in [start, end), not cancelled.")
    orders_shipped = serializers.IntegerField(help_text="Orders with at least one unit shipped.")
    orders_delivered = serializers.IntegerField()
    order_lead_time_hours = LeadTimeSerializer(
        help_text="delivered_at - placed_at over delivered orders, in hours (1 decimal); nulls when none."
    )
    on_time_delivery_pct = serializers.FloatField(
        allow_null=True,
        help_text="Delivered on or before promised_delivery_date (UTC date), over delivered orders that have one.",
    )
    order_accuracy_pct = serializers.FloatField(
        allow_null=True,
        help_text="100 x (orders_shipped - shipped orders with a non-rejected wrong_item/missing_item return line)"
        " / orders_shipped.",
    )
    return_rate_pct = serializers.FloatField(allow_null=True, help_text="100 x units_returned / units_sold.")
    fill_rate_pct = serializers.FloatField(
        allow_null=True, help_text="Units reserved when the order was received over units ordered."
    )
    backorder_rate_pct = serializers.FloatField(
        allow_null=True, help_text="Orders that had any backordered quantity over orders."
    )
    perfect_order_pct = serializers.FloatField(
        allow_null=True,
        help_text="Delivered orders on time (or without a promise), complete in one delivery with nothing"
        " backordered, and without a non-rejected return, over delivered orders.",
    )
    units_sold = serializers.IntegerField(help_text="Units shipped to the cohort.")
    units_returned = serializers.IntegerField(help_text="Units on the cohort's non-rejected return lines.")
    mis_picks_caught = serializers.IntegerField(
        help_text="Wrong or extra items the pick and pack stations refused on the cohort's shipments."
    )


class KpiPointSerializer(KpiSerializer):
    start = serializers.DateField(help_text="First day of the interval (clipped to the period).")
    end = serializers.DateField(help_text="Day after the interval's last day (clipped to the period).")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return {"start": data.pop("start"), "end": data.pop("end"), **data}


class KpiSeriesSerializer(serializers.Serializer):
    interval = serializers.ChoiceField(choices=INTERVALS)
    start = serializers.DateField()
    end = serializers.DateField()
    results = KpiPointSerializer(many=True)


def kpi_data(figures: dict) -> dict:
    """The KPI object as the API sends it (``kpi_report --format json`` prints the same)."""
    return KpiSerializer(figures).data


def series_data(*, interval: str, start, end, points: list[dict]) -> dict:
    rows = [{**point, "start": point["start"].date(), "end": point["end"].date()} for point in points]
    return KpiSeriesSerializer({"interval": interval, "start": start.date(), "end": end.date(), "results": rows}).data
