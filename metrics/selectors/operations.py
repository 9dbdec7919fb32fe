"""What needs a manager's attention now: orders at risk, low and dead stock, suppliers' punctuality.

Unlike the cohort KPIs these read the current state (``as_of``), not a period of placed orders.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from inventory.models import PurchaseOrder, StockItem, StockMovement
from orders.models import Order, OrderStatus, Shipment

from .kpis import pct

OPEN_ORDER_STATUSES = (
    OrderStatus.PLACED,
    OrderStatus.RECEIVED,
    OrderStatus.ON_HOLD,
    OrderStatus.BACKORDERED,
    OrderStatus.PICKED,
    OrderStatus.PACKED,
    OrderStatus.SHIPPED,
)
DEAD_STOCK_DAYS = 90


def orders_at_risk(
    *, today: date, horizon_days: int = 1, channel_id: int | None = None, location_id: int | None = None
) -> QuerySet[Order]:
    """Orders not yet delivered whose promised date is past or within ``horizon_days``, most urgent first.

    ``is_late`` marks those whose promised date has already passed.
    """
    qs = Order.objects.filter(
        status__in=OPEN_ORDER_STATUSES, promised_delivery_date__lte=today + timedelta(days=horizon_days)
    )
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    if location_id is not None:
        qs = qs.filter(
            Exists(
                Shipment.objects.filter(order=OuterRef("pk"), location_id=location_id).exclude(
                    status=Shipment.Status.CANCELLED
                )
            )
        )
    return (
        qs.select_related("channel", "customer")
        .annotate(is_late=ExpressionWrapper(Q(promised_delivery_date__lt=today), output_field=BooleanField()))
        .order_by("promised_delivery_date", "placed_at", "pk")
    )


def low_stock(*, location_id: int | None = None) -> QuerySet[StockItem]:
    """Stock rows at or below their reorder point (rows with a reorder point), emptiest first."""
    qs = StockItem.objects.filter(reorder_point__gt=0, on_hand__lte=F("reserved") + F("reorder_point"))
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    return (
        qs.select_related("product", "location")
        .annotate(available_units=F("on_hand") - F("reserved"))
        .order_by("available_units", "product__sku", "location__code")
    )


def dead_stock(*, now: datetime, days: int = DEAD_STOCK_DAYS, location_id: int | None = None) -> QuerySet[StockItem]:
    """Stock on hand with no sale in ``days``, valued at cost (``value``), most valuable first.

    A *sale* is a shipment movement out of that stock row. Stock that arrived
    less than ``days`` ago (no movement before the cut-off) is not dead yet.
    """
    cutoff = now - timedelta(days=days)
    movements = StockMovement.objects.filter(stock_item=OuterRef("pk"))
    qs = StockItem.objects.filter(on_hand__gt=0).filter(
        Exists(movements.filter(created_at__lt=cutoff)),
        ~Exists(movements.filter(kind=StockMovement.Kind.SHIPMENT, created_at__gte=cutoff)),
    )
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    value = ExpressionWrapper(
        F("on_hand") * F("product__cost"), output_field=DecimalField(max_digits=16, decimal_places=2)
    )
    return qs.select_related("product", "location").annotate(value=value).order_by("-value", "product__sku")


def dead_stock_value(*, now: datetime, days: int = DEAD_STOCK_DAYS, location_id: int | None = None) -> Decimal:
    total = (
        dead_stock(now=now, days=days, location_id=location_id)
        .order_by()
        .aggregate(
            total=Coalesce(
                Sum("value"), Value(Decimal("0.00")), output_field=DecimalField(max_digits=16, decimal_places=2)
            )
        )["total"]
    )
    return Decimal(total).quantize(Decimal("0.01"))


def supplier_on_time(*, start: datetime, end: datetime, location_id: int | None = None) -> dict[str, Any]:
    """Purchase orders fully received in ``[start, end)`` on or before their expected date, overall and per supplier."""
    qs = PurchaseOrder.objects.filter(received_at__gte=start, received_at__lt=end, on_time__isnull=False)
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    aggregates = {"received": Count("pk"), "on_time": Count("pk", filter=Q(on_time=True))}
    overall = qs.order_by().aggregate(**aggregates)
    rows = qs.order_by().values("supplier_id", "supplier__name").annotate(**aggregates).order_by("supplier__name")
    return {
        "purchase_orders": overall["received"],
        "on_time_pct": pct(overall["on_time"], overall["received"]),
        "suppliers": [
            {
                "supplier": row["supplier__name"],
                "purchase_orders": row["received"],
                "on_time_pct": pct(row["on_time"], row["received"]),
            }
            for row in rows
        ],
    }
