"""Shared reads of stock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Location, PurchaseOrderLine, StockItem, StockMovement, Supplier
from .reservations import reservations_held


def stock_list(*, sku: str | None = None, location: str | None = None) -> QuerySet[StockItem]:
    qs = StockItem.objects.select_related("product", "location")
    if sku:
        qs = qs.filter(product__sku=sku)
    if location:
        qs = qs.filter(location__code=location)
    return qs


def available_expression():
    return F("on_hand") - F("reserved")


def locations_active() -> QuerySet[Location]:
    return Location.objects.filter(active=True)


@dataclass(frozen=True)
class StockDrift:
    stock_item_id: int
    sku: str
    location: str
    on_hand: int
    ledger: int
    reserved: int
    held: int

    def describe(self) -> str:
        parts = []
        if self.on_hand != self.ledger:
            parts.append(f"on_hand {self.on_hand} but the ledger sums to {self.ledger}")
        if self.reserved != self.held:
            parts.append(f"reserved {self.reserved} but open reservations hold {self.held}")
        return f"{self.sku}@{self.location} (stock row {self.stock_item_id}): " + "; ".join(parts)


def stock_drift() -> list[StockDrift]:
    """Stock rows whose counters disagree with their sources of truth.

    ``on_hand`` must equal the sum of the row's movements; ``reserved`` must
    equal what the registered holders (``inventory.reservations``) hold. Two
    aggregate queries plus one per provider, whatever the number of rows.
    """
    rows = StockItem.objects.annotate(
        ledger=Coalesce(Sum("movements__quantity"), Value(0)),
    ).values_list("pk", "product__sku", "location__code", "on_hand", "reserved", "ledger")
    held = reservations_held()
    drift = []
    for pk, sku, code, on_hand, reserved, ledger in rows.order_by("pk"):
        if on_hand != ledger or reserved != held.get(pk, 0):
            drift.append(StockDrift(pk, sku, code, on_hand, ledger, reserved, held.get(pk, 0)))
    known = set(rows.values_list("pk", flat=True)) if held else set()
    for pk in sorted(set(held) - known):  # a holder names a stock row that does not exist
        drift.append(StockDrift(pk, "?", "?", 0, 0, 0, held[pk]))
    return drift


OPEN_PO_STATUSES = ("draft", "sent", "partially_received")


def incoming_by_stock() -> dict[tuple[int, int], int]:
    """Units still to come on open purchase orders (drafts included), per (product_id, location_id)."""
    rows = (
        PurchaseOrderLine.objects.filter(purchase_order__status__in=OPEN_PO_STATUSES)
        .values("product_id", "purchase_order__location_id")
        .annotate(units=Sum(F("quantity") - F("quantity_received")))
        .order_by()
    )
    return {(r["product_id"], r["purchase_order__location_id"]): r["units"] for r in rows}


def _incoming_subquery():
    return Coalesce(
        Subquery(
            PurchaseOrderLine.objects.filter(
                product_id=OuterRef("product_id"),
                purchase_order__location_id=OuterRef("location_id"),
                purchase_order__status__in=OPEN_PO_STATUSES,
            )
            .values("product_id")
            .annotate(units=Sum(F("quantity") - F("quantity_received")))
            .values("units")[:1]
        ),
        Value(0),
    )


def stock_low(*, location: str | None = None) -> QuerySet[StockItem]:
    """Rows at or below their reorder point (``reorder_point`` > 0), with what is already on order."""
    qs = (
        stock_list(location=location)
        .filter(reorder_point__gt=0)
        .annotate(available_now=F("on_hand") - F("reserved"), incoming=_incoming_subquery())
        .filter(available_now__lte=F("reorder_point"))
    )
    return qs


def stock_dead(*, days: int, location: str | None = None) -> QuerySet[StockItem]:
    """Rows with units on hand and no shipment movement in the last ``days`` days, valued at cost."""
    since = timezone.now() - timedelta(days=days)
    shipped = StockMovement.objects.filter(
        stock_item_id=OuterRef("pk"), kind=StockMovement.Kind.SHIPMENT, created_at__gte=since
    )
    last = (
        StockMovement.objects.filter(stock_item_id=OuterRef("pk"), kind=StockMovement.Kind.SHIPMENT)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return (
        stock_list(location=location)
        .filter(on_hand__gt=0)
        .exclude(Exists(shipped))
        .annotate(
            value=ExpressionWrapper(
                F("on_hand") * F("product__cost"), output_field=DecimalField(max_digits=16, decimal_places=2)
            ),
            last_shipped_at=Subquery(last),
        )
    )


def stock_dead_value(*, days: int, location: str | None = None) -> Decimal:
    total = stock_dead(days=days, location=location).aggregate(total=Sum("value"))["total"]
    return Decimal(total or 0).quantize(Decimal("0.01"))


def stock_over(*, location: str | None = None) -> QuerySet[StockItem]:
    """Rows holding more than their ``max_stock``: the units above it (``over``) and their value at cost."""
    return (
        stock_list(location=location)
        .filter(max_stock__isnull=False, on_hand__gt=F("max_stock"))
        .annotate(
            over=F("on_hand") - F("max_stock"),
            value=ExpressionWrapper(
                (F("on_hand") - F("max_stock")) * F("product__cost"),
                output_field=DecimalField(max_digits=16, decimal_places=2),
            ),
        )
    )


def stock_over_value(*, location: str | None = None) -> Decimal:
    total = stock_over(location=location).aggregate(total=Sum("value"))["total"]
    return Decimal(total or 0).quantize(Decimal("0.01"))


def supplier_performance(*, supplier_ids: Iterable[int] | None = None) -> QuerySet[Supplier]:
    """Per supplier: received purchase orders, on-time rate (percent) and real lead time (mean days)."""
    received = Q(purchase_orders__status="received")
    qs = Supplier.objects.annotate(
        received_count=Count("purchase_orders", filter=received),
        on_time_count=Count("purchase_orders", filter=received & Q(purchase_orders__on_time=True)),
        rated_count=Count("purchase_orders", filter=received & Q(purchase_orders__on_time__isnull=False)),
        lead_time_days_avg=Avg("purchase_orders__lead_time_days", filter=received),
    )
    if supplier_ids is not None:
        qs = qs.filter(pk__in=list(supplier_ids))
    return qs
