"""Shared reads of orders, each carrying its own joins so a list costs a constant number of queries."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from .models import Order, OrderEvent, OrderLine, Shipment, ShipmentLine


def order_list(*, channel=None) -> QuerySet[Order]:
    qs = Order.objects.select_related("channel", "customer").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch(
            "shipments",
            queryset=Shipment.objects.select_related("location")
            .prefetch_related(
                Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line").order_by("id"))
            )
            .order_by("id"),
        ),
    )
    if channel is not None:
        qs = qs.filter(channel=channel)
    return qs


def orders_with_sku(qs: QuerySet[Order], sku: str) -> QuerySet[Order]:
    return qs.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), sku=sku)))


def order_events(*, order: Order) -> QuerySet[OrderEvent]:
    return order.events.order_by("at", "id")


def order_is_partially_shipped(order: Order) -> bool:
    """Some shipments have left and others have not (uses prefetched shipments)."""
    shipped = {Shipment.Status.SHIPPED, Shipment.Status.IN_TRANSIT, Shipment.Status.DELIVERED}
    live = [s for s in order.shipments.all() if s.status != Shipment.Status.CANCELLED]
    gone = [s for s in live if s.status in shipped]
    waiting = any(line.quantity_backordered for line in order.lines.all())
    return bool(gone) and (len(gone) < len(live) or waiting)
