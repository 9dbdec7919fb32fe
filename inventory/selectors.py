"""Shared reads of stock."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from .models import Location, Product, StockItem


def stock_list(*, sku: str | None = None, location: str | None = None) -> QuerySet[StockItem]:
    qs = StockItem.objects.select_related("product", "location")
    if sku:
        qs = qs.filter(product__sku=sku)
    if location:
        qs = qs.filter(location__code=location)
    return qs


def available_expression():
    return F("on_hand") - F("reserved")


def available_by_sku(*, skus: Iterable[str], location_ids: Iterable[int]) -> dict[str, int]:
    """Sellable units per SKU over these (active) locations; unknown SKUs are absent."""
    rows = (
        Product.objects.filter(sku__in=list(skus))
        .annotate(
            available=Coalesce(
                Sum(
                    F("stock_items__on_hand") - F("stock_items__reserved"),
                    filter=Q(
                        stock_items__location_id__in=list(location_ids),
                        stock_items__location__active=True,
                    ),
                ),
                Value(0),
            )
        )
        .values_list("sku", "available")
    )
    return {sku: max(int(available), 0) for sku, available in rows}


def locations_active() -> QuerySet[Location]:
    return Location.objects.filter(active=True)
