"""Row locks on stock, always taken in primary-key order so two orders never deadlock."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from django.db import connections, router

from .models import Location, StockItem


def stock_items_lock(
    *, product_ids: Iterable[int], location_ids: Iterable[int], locations: Mapping[int, Location] | None = None
) -> list[StockItem]:
    """Lock every stock row of these products at these locations, ordered by pk.

    One query. On SQLite ``select_for_update`` is a no-op; the IMMEDIATE
    transaction mode set in settings serialises writers instead. Each row comes
    with its ``location``: the instance from ``locations`` (by pk) when the caller
    has read them (no join, and on PostgreSQL the statement is written out: placing
    an order takes this lock every time, and the ORM cost more CPU than the query).
    """
    product_ids, location_ids = list(product_ids), list(location_ids)
    alias = router.db_for_write(StockItem)
    if not product_ids or not location_ids:
        return []  # as the ORM answers an empty IN: no query
    if locations is None:
        return list(
            StockItem.objects.using(alias)
            .select_for_update(of=("self",))
            .select_related("location")
            .filter(product_id__in=product_ids, location_id__in=location_ids)
            .order_by("pk")
        )
    if connections[alias].vendor == "postgresql":
        items = list(StockItem.objects.using(alias).raw(_lock_sql(alias), [product_ids, location_ids]))
    else:
        items = list(
            StockItem.objects.using(alias)
            .select_for_update(of=("self",))
            .filter(product_id__in=product_ids, location_id__in=location_ids)
            .order_by("pk")
        )
    for item in items:
        item.location = locations[item.location_id]
    return items


@functools.cache
def _lock_sql(alias: str) -> str:
    """The PostgreSQL statement (the text only: it depends on the model, not on any row)."""
    quote = connections[alias].ops.quote_name
    meta = StockItem._meta
    product, location = (quote(meta.get_field(name).column) for name in ("product", "location"))
    return (
        f"SELECT {', '.join(quote(f.column) for f in meta.concrete_fields)} FROM {quote(meta.db_table)} "
        f"WHERE {product} = ANY(%s) AND {location} = ANY(%s) ORDER BY {quote(meta.pk.column)} FOR UPDATE"
    )
