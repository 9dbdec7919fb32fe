"""Row locks on stock, always taken in primary-key order so two orders never deadlock."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from django.db import connections, router

from . import bulk
from .models import Location, StockItem


def stock_items_lock(
    *, product_ids: Iterable[int], location_ids: Iterable[int], locations: Mapping[int, Location] | None = None
) -> list[StockItem]:
    """Lock every stock row of these products at these locations, ordered by pk.

    One query. On SQLite ``select_for_update`` is a no-op; the IMMEDIATE
    transaction mode set in settings serialises writers instead. Each row comes
    with its ``location``: the instance from ``locations`` (by pk) when the caller
    has read them (no join, and the statement is written out: placing an order
    takes this lock every time, with its new rows' keys in the same round trip).
    """
    product_ids, location_ids = list(product_ids), list(location_ids)
    alias = router.db_for_write(StockItem)
    if not product_ids or not location_ids:
        return []  # as the ORM answers an empty IN: no query
    if locations is None:
        return list(_rows(product_ids, location_ids).select_for_update(of=("self",)))
    (rows,) = bulk.fetch_together(alias, stock_items_lock_statement(product_ids=product_ids, location_ids=location_ids))
    return stock_items_locked(rows, locations=locations)


def stock_items_read(*, product_ids: Iterable[int], location_ids: Iterable[int]) -> list[StockItem]:
    """``stock_items_lock``'s rows as they are now, unlocked: to plan against, the lock taken later (a bulk
    import's chunk, ``orders.bulk_placement.StockCheck``)."""
    product_ids, location_ids = list(product_ids), list(location_ids)
    if not product_ids or not location_ids:
        return []
    return list(_rows(product_ids, location_ids))


def _rows(product_ids: list[int], location_ids: list[int]):
    return (
        StockItem.objects.using(router.db_for_write(StockItem))
        .select_related("location")
        .filter(product_id__in=product_ids, location_id__in=location_ids)
        .order_by("pk")
    )


def stock_items_lock_statement(*, product_ids: Iterable[int], location_ids: Iterable[int]) -> bulk.Statement | None:
    """``stock_items_lock``'s statement, to send with others (``bulk.fetch_together``); None when it would
    lock nothing. Read its rows with ``stock_items_locked``."""
    product_ids, location_ids = list(product_ids), list(location_ids)
    if not product_ids or not location_ids:
        return None
    alias = router.db_for_write(StockItem)
    if connections[alias].vendor == "postgresql":
        return _lock_sql(alias), [product_ids, location_ids]
    meta, quote = StockItem._meta, connections[alias].ops.quote_name
    product, location = (quote(meta.get_field(name).column) for name in ("product", "location"))
    sql = (  # no FOR UPDATE: the IMMEDIATE transaction mode serialises writers
        f"SELECT {', '.join(quote(f.column) for f in meta.concrete_fields)} FROM {quote(meta.db_table)} "
        f"WHERE {product} IN ({', '.join(['%s'] * len(product_ids))}) "
        f"AND {location} IN ({', '.join(['%s'] * len(location_ids))}) ORDER BY {quote(meta.pk.column)}"
    )
    return sql, [*product_ids, *location_ids]


def stock_items_lock_where_statement(*, products: bulk.Statement, locations: bulk.Statement) -> bulk.Statement:
    """``stock_items_lock_statement`` for the products and locations two sub-selects name (each selects
    ids), so the lock goes in the same round trip as the reads that would have found those ids (placing an
    order sends it with its products, customer and locations). Read its rows with ``stock_items_locked``."""
    alias = router.db_for_write(StockItem)
    connection = connections[alias]
    meta, quote = StockItem._meta, connection.ops.quote_name
    product, location = (quote(meta.get_field(name).column) for name in ("product", "location"))
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""  # SQLite: the IMMEDIATE mode serialises
    sql = (
        f"SELECT {', '.join(quote(f.column) for f in meta.concrete_fields)} FROM {quote(meta.db_table)} "
        f"WHERE {product} IN ({products[0]}) AND {location} IN ({locations[0]}) ORDER BY {quote(meta.pk.column)}{lock}"
    )
    return sql, [*products[1], *locations[1]]


def stock_items_locked(rows: list[tuple] | None, *, locations: Mapping[int, Location]) -> list[StockItem]:
    """The stock rows ``stock_items_lock_statement`` locked, each with its ``location`` from ``locations``."""
    items = bulk.instances(StockItem, rows or [], router.db_for_write(StockItem))
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
