"""What orders holds on stock: the open shipment lines (registered with ``inventory.reservations``).

A unit is reserved exactly while it sits on a shipment line of a shipment that
has not shipped or been cancelled. ``python manage.py check_stock`` compares
this with ``StockItem.reserved``.
"""

from __future__ import annotations

from django.db.models import Sum

from .models import Shipment, ShipmentLine


def open_reservations(*, stock_item_ids: list[int] | None = None) -> dict[int, int]:
    qs = ShipmentLine.objects.filter(shipment__status__in=Shipment.OPEN_STATUSES)
    if stock_item_ids is not None:
        qs = qs.filter(stock_item_id__in=stock_item_ids)
    rows = qs.values("stock_item_id").annotate(units=Sum("quantity")).order_by()
    return {row["stock_item_id"]: row["units"] for row in rows}
