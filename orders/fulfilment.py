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
from inventory.errors import ErrorItem, InvalidInput
from inventory.models import StockItem

from . import carriers, lifecycle, shipment_lifecycle
from .errors import InvalidTransition
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
    if order.lines.filter(quantity_backordered__gt=0).exists():
        # Units still wait for stock: the order stays backordered (``partially_shipped``
        # tells what has left), so arriving stock is still allocated to it.
        target = OrderStatus.BACKORDERED
    if target == order.status:
        return
    at = None
    if target == OrderStatus.DELIVERED:
        at = max(order.shipments.exclude(status=ShipmentStatus.CANCELLED).values_list("delivered_at", flat=True))
    lifecycle.apply(order, target, actor=actor, at=at)


def lock_shipment(shipment: Shipment) -> tuple[Order, Shipment]:
    """Lock the order, then the shipment (the global lock order: Order before Shipment before Stock)."""
    order = Order.objects.select_for_update().get(pk=shipment.order_id)
    shipment = Shipment.objects.select_for_update(of=("self",)).select_related("location").get(pk=shipment.pk)
    return order, shipment


_lock = lock_shipment  # the foundation's name

# An order in these states has nothing on the floor yet: a person must release it first.
NOT_RELEASED = (OrderStatus.PLACED, OrderStatus.ON_HOLD, OrderStatus.CANCELLED)


def ensure_released(order: Order, shipment: Shipment) -> None:
    if order.status in NOT_RELEASED:
        raise InvalidTransition(
            f"Order {order.number} is {order.status}; shipment {shipment.number} must wait.",
            code="order_not_released",
            extra={"order_status": order.status},
        )


@transaction.atomic
def shipment_pack(
    *, shipment: Shipment, weight_grams: int, length_mm: int, width_mm: int, height_mm: int, actor: str
) -> Shipment:
    """The parcel is closed, weighed and measured: ``picked -> packed``."""
    sizes = {"weight_grams": weight_grams, "length_mm": length_mm, "width_mm": width_mm, "height_mm": height_mm}
    bad = [
        ErrorItem("invalid_size", f"{name} must be a whole number from 1 to 10000000.", name)
        for name, value in sizes.items()
        if not (isinstance(value, int) and 0 < value <= 10_000_000)
    ]
    if bad:
        raise InvalidInput(bad)
    order, shipment = lock_shipment(shipment)
    ensure_released(order, shipment)
    shipment_lifecycle.apply(shipment, ShipmentStatus.PACKED, actor=actor, data=sizes)
    for name, value in sizes.items():
        setattr(shipment, name, value)
    shipment.save(update_fields=list(sizes))
    order_sync_status(order=order, actor=actor)
    return shipment


def shipment_ship(
    *, shipment: Shipment, carrier: str, tracking_number: str | None, actor: str, service: str = ""
) -> Shipment:
    """The parcel leaves: stock leaves ``on_hand`` and ``reserved`` with a movement; lines count it shipped.

    ``carrier`` names a carrier (``ups``, ``usps``, ``fedex``, ``dhl``, ...) with the
    ``tracking_number`` staff typed, or a label-buying adapter (``easypost``)
    that buys the label when no number is given. The state is checked before
    a label is bought, and the carrier is called outside the transaction.
    """
    current = Shipment.objects.select_related("order", "location").get(pk=shipment.pk)
    shipment_lifecycle.ensure(current, ShipmentStatus.SHIPPED)
    ensure_released(current.order, current)
    handover = carriers.handover(shipment=current, carrier=carrier, tracking_number=tracking_number, service=service)
    return _ship_commit(shipment=current, handover=handover, actor=actor)


@transaction.atomic
def _ship_commit(*, shipment: Shipment, handover: carriers.Handover, actor: str) -> Shipment:
    order, shipment = lock_shipment(shipment)
    ensure_released(order, shipment)
    shipment_lifecycle.apply(
        shipment,
        ShipmentStatus.SHIPPED,
        actor=actor,
        data={
            "carrier": handover.carrier,
            "tracking_number": handover.tracking_number,
            "tracking_url": handover.tracking_url,
        },
    )
    shipment.carrier = handover.carrier
    shipment.tracking_number = handover.tracking_number or None
    shipment.tracking_url = handover.tracking_url
    shipment.tracking_provider = handover.provider
    shipment.carrier_ref = handover.carrier_ref
    shipment.label_url = handover.label_url
    shipment.service = handover.service or shipment.service
    shipment.next_poll_at = timezone.now() if handover.provider != carriers.MANUAL else None
    shipment.save(
        update_fields=[
            "carrier",
            "tracking_number",
            "tracking_url",
            "tracking_provider",
            "carrier_ref",
            "label_url",
            "service",
            "next_poll_at",
        ]
    )
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
def shipment_deliver(*, shipment: Shipment, actor: str, delivered_at=None, data=None) -> Shipment:
    order, shipment = lock_shipment(shipment)
    shipment_lifecycle.apply(
        shipment, ShipmentStatus.DELIVERED, actor=actor, at=delivered_at or timezone.now(), data=data
    )
    shipment.next_poll_at = None
    shipment.save(update_fields=["next_poll_at"])
    order_sync_status(order=order, actor=actor)
    return shipment


@transaction.atomic
def shipment_carrier_status(*, shipment: Shipment, to: str, actor: str, at=None, data=None) -> Shipment:
    """A carrier says the parcel moved on (``in_transit``, ``exception``, ``delivered``)."""
    if to == ShipmentStatus.DELIVERED:
        return shipment_deliver(shipment=shipment, actor=actor, delivered_at=at, data=data)
    order, shipment = lock_shipment(shipment)
    shipment_lifecycle.apply(shipment, to, actor=actor, at=at, data=data)
    order_sync_status(order=order, actor=actor)
    return shipment
