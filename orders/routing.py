"""The routing decision around ``sourcing.plan``: its inputs, its record, its explanation.

- ``context_for`` gathers what the pure planner needs beyond stock rows: the
  channel's safety stock per location, today's shipments per location (for
  daily capacity) and the customer's destination. Its parts
  (``safety_stock_for``, ``shipments_today``, ``destination_of``) also serve
  ``services.backorders_allocate``, so arriving stock is sourced by the same rules.
- ``sellable_by_sku`` is what ``GET /api/v1/availability/`` offers: the same
  safety stock and capacity, so what is offered is what an order then reserves.
- ``routing_record`` writes the ``routed`` OrderEvent at placement: per line
  the candidates considered, the rule that decided and why the others lost.
- ``order_routing`` reads it back (``GET /api/v1/orders/{id}/routing/``).
- ``routing_simulate`` answers the same question for an order body without
  locking or reserving anything (``POST /api/v1/sourcing/simulate/``); it
  uses the same inputs and the same planner as placement, so the answers match.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, time

from django.db import connections, router
from django.utils import timezone

from inventory.bulk import Statement, fetch_together, instances
from inventory.models import ChannelStockRule, Location, Product, StockItem

from . import backorder_policy, lifecycle, sourcing
from .errors import ErrorItem, InvalidInput
from .models import Order, OrderEvent, OrderLine, Shipment

EVENT_TYPE = "routed"


def context_for(
    *, channel, address, locations: list[Location] | None = None, safety: dict[int, int] | None = None
) -> sourcing.Context:
    """Safety stock, today's shipments and the destination for one of ``channel``'s orders.

    ``safety``: the channel's safety stock over ``locations`` when already read (``channel_locations``).
    """
    if locations is None:
        locations = list(channel.locations.filter(active=True))
    if safety is None:
        safety = safety_stock_for(channel=channel, location_ids=[loc.pk for loc in locations])
    return sourcing.Context(
        safety_stock=safety,
        shipments_today=shipments_today(locations=locations),
        destination=destination_of(address),
    )


def channel_locations(channel) -> tuple[list[Location], dict[int, int]]:
    """The channel's active locations (``channel.locations.filter(active=True)``) and its safety stock over
    them (as ``safety_stock_for``), in one query.

    Written out in SQL: placing an order asks it every time, and composing it with the ORM cost more
    CPU than the query. Each location joins its own rule and the channel's default rule (both unique).
    """
    alias = router.db_for_read(Location)
    (rows,) = fetch_together(alias, channel_locations_statement(channel))
    return channel_locations_read(rows)


def channel_locations_statement(channel) -> Statement:
    """``channel_locations``' statement, to send with others (``inventory.bulk.fetch_together``)."""
    return _channel_locations_sql(router.db_for_read(Location)), [getattr(channel, "pk", channel)]


def channel_location_ids_statement(channel) -> Statement:
    """The ids of the channel's active locations, as a sub-select (the stock lock sent with the reads)."""
    return _channel_location_ids_sql(router.db_for_read(Location)), [getattr(channel, "pk", channel)]


@functools.cache
def _channel_location_ids_sql(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    meta = Location._meta
    link = meta.get_field("channels").through._meta
    to_location = next(f.column for f in link.concrete_fields if f.is_relation and f.related_model is Location)
    to_channel = next(f.column for f in link.concrete_fields if f.is_relation and f.related_model is not Location)
    return (
        f"SELECT m.{quote(to_location)} FROM {quote(link.db_table)} m INNER JOIN {quote(meta.db_table)} l "
        f"ON l.{quote(meta.pk.column)} = m.{quote(to_location)} "
        f"WHERE m.{quote(to_channel)} = %s AND l.{quote(meta.get_field('active').column)}"
    )


def channel_locations_read(rows: list[tuple]) -> tuple[list[Location], dict[int, int]]:
    """``channel_locations`` from its statement's rows."""
    locations, kept = [], {}
    for location in instances(Location, rows, router.db_for_read(Location), extra=("own_safety", "default_safety")):
        own, default = location.__dict__.pop("own_safety"), location.__dict__.pop("default_safety")
        units = own if own is not None else (default or 0)
        if units:
            kept[location.pk] = units
        locations.append(location)
    return locations, kept


@functools.cache
def _channel_locations_sql(alias: str) -> str:
    """``channel_locations``' query (the text only: it depends on the models, not on any row)."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta, rule = Location._meta, ChannelStockRule._meta
    link = meta.get_field("channels").through._meta  # SalesChannel.locations' table (channels_app)
    to_location = next(f.column for f in link.concrete_fields if f.is_relation and f.related_model is Location)
    to_channel = next(f.column for f in link.concrete_fields if f.is_relation and f.related_model is not Location)
    pk, ours = quote(meta.pk.column), f"m.{quote(to_channel)}"
    safety, channel_id, location_id = (quote(rule.get_field(n).column) for n in ("safety_stock", "channel", "location"))
    ordering = ", ".join(  # Location.Meta.ordering, as the ORM would sort
        f"l.{quote(meta.get_field(name.lstrip('-')).column)}{' DESC' if name.startswith('-') else ''}"
        for name in meta.ordering
    )
    return (
        f"SELECT {', '.join(f'l.{quote(f.column)}' for f in meta.concrete_fields)}, "
        f"own.{safety} AS own_safety, dflt.{safety} AS default_safety "
        f"FROM {quote(meta.db_table)} l INNER JOIN {quote(link.db_table)} m ON m.{quote(to_location)} = l.{pk} "
        f"LEFT JOIN {quote(rule.db_table)} own ON own.{channel_id} = {ours} AND own.{location_id} = l.{pk} "
        f"LEFT JOIN {quote(rule.db_table)} dflt ON dflt.{channel_id} = {ours} AND dflt.{location_id} IS NULL "
        f"WHERE {ours} = %s AND l.{quote(meta.get_field('active').column)} ORDER BY {ordering}"
    )


def safety_stock_for(*, channel, location_ids: list[int]) -> dict[int, int]:
    """Units ``channel`` (an instance or its id) keeps back per location: its rule there, else its default rule."""
    safety: dict[int, int] = {}
    default = 0
    for rule in ChannelStockRule.objects.filter(channel=channel).order_by("location_id"):
        if rule.location_id is None:
            default = rule.safety_stock
        else:
            safety[rule.location_id] = rule.safety_stock
    return {pk: safety.get(pk, default) for pk in location_ids if safety.get(pk, default)}


def shipments_today(*, locations) -> dict[int, int]:
    """Shipments created today (UTC, not cancelled) per location that has a daily capacity."""
    capped = [loc.pk for loc in locations if loc.daily_shipment_capacity is not None]
    today: dict[int, int] = {}
    if capped:
        start = datetime.combine(timezone.now().astimezone(UTC).date(), time.min, tzinfo=UTC)
        for location_id in (
            Shipment.objects.filter(location_id__in=capped, created_at__gte=start)
            .exclude(status=Shipment.Status.CANCELLED)
            .values_list("location_id", flat=True)
        ):
            today[location_id] = today.get(location_id, 0) + 1
    return today


def destination_of(address) -> sourcing.Destination:
    """An ``AddressInput`` (``country``, ``postal_code``) or an ``Order`` (``ship_country``, ``ship_postal_code``)."""
    country = getattr(address, "country", None) or getattr(address, "ship_country", "")
    postal_code = getattr(address, "postal_code", None) or getattr(address, "ship_postal_code", "")
    return sourcing.Destination(country=str(country or "").upper(), postal_code=str(postal_code or ""))


def sellable_by_sku(*, channel, skus: list[str], locations: list[Location]) -> dict[str, int]:
    """What ``channel`` can sell now per known SKU over ``locations``, as placing would see it.

    Per location: on hand minus reserved minus the channel's safety stock (never
    below zero); a location at its daily shipment capacity sells nothing new
    today. ``channel=None`` (staff asking for the whole network): no safety stock.
    """
    locations = [loc for loc in locations if loc.active]
    today = shipments_today(locations=locations)
    open_ids = [
        loc.pk
        for loc in locations
        if loc.daily_shipment_capacity is None or today.get(loc.pk, 0) < loc.daily_shipment_capacity
    ]
    safety = safety_stock_for(channel=channel, location_ids=open_ids) if channel is not None else {}
    sellable = dict.fromkeys(Product.objects.filter(sku__in=skus).values_list("sku", flat=True), 0)
    for sku, location_id, on_hand, reserved in StockItem.objects.filter(
        product__sku__in=skus, location_id__in=open_ids
    ).values_list("product__sku", "location_id", "on_hand", "reserved"):
        sellable[sku] += max(on_hand - reserved - safety.get(location_id, 0), 0)
    return sellable


def explanation(*, skus: list[str], route: sourcing.Plan) -> dict:
    """The stored/served shape: ``{"summary": {...}, "lines": [{"sku", ...decision}]}``."""
    lines = [{"sku": sku, **route.decisions.get(i, {})} for i, sku in enumerate(skus)]
    return {"summary": route.summary, "lines": lines}


def routing_record(
    *, order: Order, lines: list[OrderLine], route: sourcing.Plan, actor: str, save: bool = True, at=None
) -> OrderEvent:
    """Keep the decision on the order (its ``routed`` event, at ``at`` or now), in the placing transaction.

    ``save=False`` returns it unsaved, for the caller to write with the order's other events in one INSERT.
    """
    event = lifecycle.event(
        order, EVENT_TYPE, actor=actor, data=explanation(skus=[ln.sku for ln in lines], route=route), at=at
    )
    return lifecycle.record_many([event])[0] if save else event


def order_routing(*, order: Order) -> dict | None:
    """The routing decision stored when the order was placed, or ``None`` for an order placed before it existed."""
    event = OrderEvent.objects.filter(order=order, type=EVENT_TYPE).order_by("at", "id").first()
    if event is None:
        return None
    return {"order": order.pk, "number": order.number, "routed_at": event.at, **event.data}


def routing_simulate(*, channel, data) -> dict:
    """Where ``data`` (an ``orders.services.OrderInput``) would ship from, and why. Reserves nothing."""
    skus = [line.sku for line in data.lines]
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    errors = []
    seen: set[str] = set()
    for i, sku in enumerate(skus):
        if sku in seen:
            errors.append(ErrorItem("duplicate_sku", f"SKU {sku!r} appears on more than one line.", f"lines.{i}.sku"))
        seen.add(sku)
        if sku not in products:
            errors.append(ErrorItem("unknown_sku", f"No product with SKU {sku!r}.", f"lines.{i}.sku"))
        elif not products[sku].active:
            errors.append(ErrorItem("inactive_sku", f"Product {sku!r} is not for sale.", f"lines.{i}.sku"))
    if errors:
        raise InvalidInput(errors)
    demands = [
        sourcing.LineDemand(key=i, product_id=products[line.sku].pk, quantity=line.quantity)
        for i, line in enumerate(data.lines)
    ]
    locations = list(channel.locations.filter(active=True))
    stock = list(
        StockItem.objects.filter(
            product_id__in=[d.product_id for d in demands], location_id__in=[loc.pk for loc in locations]
        ).order_by("pk")
    )
    context = context_for(channel=channel, address=data.shipping_address, locations=locations)
    route = sourcing.plan(demands=demands, locations=locations, stock=stock, context=context)
    backorder_policy.reject_unreservable(channel=channel, route=route)  # as placing does
    return {"channel": channel.code, **explanation(skus=skus, route=route)}
