"""Reads of the warehouse floor, each carrying its own joins (constant queries per list)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import PickList, Shipment, ShipmentLine, StationScan


def shipment_list(*, location_id: int | None = None) -> QuerySet[Shipment]:
    qs = Shipment.objects.select_related("location", "order", "pick_list").prefetch_related(
        Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line", "stock_item").order_by("id"))
    )
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    return qs


def shipment_for_documents(*, pk: int) -> Shipment:
    """One shipment with what a label or packing slip prints."""
    return (
        Shipment.objects.select_related("location", "order", "order__customer", "order__channel")
        .prefetch_related(
            Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line", "stock_item").order_by("id"))
        )
        .get(pk=pk)
    )


def pick_list_detail(*, pk: int) -> PickList:
    return (
        PickList.objects.select_related("location")
        .prefetch_related(
            Prefetch("shipments", queryset=Shipment.objects.select_related("order").order_by("tote", "id"))
        )
        .get(pk=pk)
    )


def caught_mis_picks(*, start=None, end=None) -> QuerySet[StationScan]:
    """Refused scans (wrong item, too many): mistakes the stations caught before they shipped."""
    qs = StationScan.objects.filter(outcome__in=StationScan.MIS_PICKS)
    if start is not None:
        qs = qs.filter(at__gte=start)
    if end is not None:
        qs = qs.filter(at__lt=end)
    return qs


def mis_picks_per_shipment(qs: QuerySet[Shipment]) -> QuerySet[Shipment]:
    return qs.annotate(mis_picks=Count("scans", filter=Q(scans__outcome__in=StationScan.MIS_PICKS)))
