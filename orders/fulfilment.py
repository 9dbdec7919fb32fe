"""Writes of the warehouse floor: shipments move, the order follows.

The order stands at the least advanced of its live shipments (DESIGN.md):
this module is where that rule lives (``order_sync_status``).
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory import services as stock_services
from inventory.models import StockItem

from . import lifecycle, shipment_lifecycle
from .models import Order, OrderLine, OrderStatus, Shipment, ShipmentLine, ShipmentStatus

# Shipment status -> the order status it implies; the least advanced live shipment wins.
_ORDER_STATUS_FOR = {
    ShipmentStatus.PENDING: OrderStatus.RECEIVED,
    ShipmentStatus.PICKING: OrderStatus.RECEIVED,
    ShipmentStatus.PICKED: OrderStatus.PICKED,
    ShipmentStatus.PACKED: OrderStatus.PACKED,
    ShipmentStatus.SHIPPED: OrderStatus.SHIPPED,
    ShipmentStatus.IN_TRANSIT: OrderStatus.SHIPPED,
    ShipmentStatus.EXCEPTION: OrderStatus.SHIPPED,
    ShipmentStatus.DELIVERED: OrderStatus.DELIVERED,
}
_RANK = [
    OrderStatus.RECEIVED,
    OrderStatus.PICKED,
    OrderStatus.PACKED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
]


def order_sync_status(*, order: Order, actor: str) -> None:
    """Move the order to where its shipments stand (call with the order locked)."""
    if order.status in (OrderStatus.CANCELLED, OrderStatus.ON_HOLD):
        return
    live = list(order.shipments.exclude(status=ShipmentStatus.CANCELLED).values_list("status", flat=True))
    if not live:
        return
    target = min((_ORDER_STATUS_FOR[s] for s in live), key=_RANK.index)
    waiting = order.lines.filter(quantity_backordered__gt=0).exists()
    if waiting and target in (OrderStatus.RECEIVED, OrderStatus.PICKED, OrderStatus.PACKED):
        target = OrderStatus.BACKORDERED
    if waiting and target == OrderStatus.DELIVERED:
        target = OrderStatus.SHIPPED  # the rest has not even been reserved yet
    if target == order.status:
        return
    at = None
    if target == OrderStatus.DELIVERED:
        at = max(order.shipments.exclude(status=ShipmentStatus.CANCELLED).values_list("delivered_at", flat=True))
    lifecycle.apply(order, target, actor=actor, at=at)


def _lock(shipment: Shipment) -> tuple[Order, Shipment]:
    order = Order.objects.select_for_update().get(pk=shipment.order_id)
    shipment = Shipment.objects.select_for_update().select_related("location").get(pk=shipment.pk)
    return order, shipment


@transaction.atomic
def shipment_ship(*, shipment: Shipment, carrier: str, tracking_number: str | None, actor: str) -> Shipment:
    """The parcel leaves: stock leaves ``on_hand`` and ``reserved`` with a movement; lines count it shipped."""
    order, shipment = _lock(shipment)
    shipment_lifecycle.apply(
        shipment,
        ShipmentStatus.SHIPPED,
        actor=actor,
        data={"carrier": carrier, "tracking_number": tracking_number},
    )
    shipment.carrier = carrier
    shipment.tracking_number = tracking_number or None
    shipment.save(update_fields=["carrier", "tracking_number"])
    lines = list(ShipmentLine.objects.filter(shipment=shipment).order_by("stock_item_id"))
    per_item: dict[int, int] = defaultdict(int)
    per_line: dict[int, int] = defaultdict(int)
    for sl in lines:
        per_item[sl.stock_item_id] += sl.quantity
        per_line[sl.order_line_id] += sl.quantity
    list(StockItem.objects.select_for_update().filter(pk__in=list(per_item)).order_by("pk"))
    stock_services.stock_ship(quantities=per_item, reference=f"shipment:{shipment.number}", actor=actor)
    for line_id, qty in per_line.items():
        OrderLine.objects.filter(pk=line_id).update(
            quantity_shipped=F("quantity_shipped") + qty, quantity_reserved=F("quantity_reserved") - qty
        )
    order_sync_status(order=order, actor=actor)
    return shipment


@transaction.atomic
def shipment_deliver(*, shipment: Shipment, actor: str, delivered_at=None) -> Shipment:
    order, shipment = _lock(shipment)
    shipment_lifecycle.apply(shipment, ShipmentStatus.DELIVERED, actor=actor, at=delivered_at or timezone.now())
    order_sync_status(order=order, actor=actor)
    return shipment
