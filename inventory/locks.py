"""Row locks on stock, always taken in primary-key order so two orders never deadlock."""

from __future__ import annotations

from collections.abc import Iterable

from .models import StockItem


def stock_items_lock(*, product_ids: Iterable[int], location_ids: Iterable[int]) -> list[StockItem]:
    """Lock every stock row of these products at these locations, ordered by pk.

    One query. On SQLite ``select_for_update`` is a no-op; the IMMEDIATE
    transaction mode set in settings serialises writers instead.
    """
    return list(
        StockItem.objects.select_for_update(of=("self",))
        .select_related("location")
        .filter(product_id__in=list(product_ids), location_id__in=list(location_ids))
        .order_by("pk")
    )
