"""The routing decision around ``sourcing.plan``: its inputs, its record, its explanation.

- ``context_for`` gathers what the pure planner needs beyond stock rows: the
  channel's safety stock per location, today's shipments per location (for
  daily capacity) and the customer's destination.
- ``routing_record`` writes the ``routed`` OrderEvent at placement: per line
  the candidates considered, the rule that decided and why the others lost.
- ``order_routing`` reads it back (``GET /api/v1/orders/{id}/routing/``).
- ``routing_simulate`` answers the same question for an order body without
  locking or reserving anything (``POST /api/v1/sourcing/simulate/``); it
  uses the same inputs and the same planner as placement, so the answers match.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from django.utils import timezone

from inventory.models import ChannelStockRule, Location, Product, StockItem

from . import lifecycle, sourcing
from .errors import ErrorItem, InvalidInput
from .models import Order, OrderEvent, OrderLine, Shipment

EVENT_TYPE = "routed"


def context_for(*, channel, address, locations: list[Location] | None = None) -> sourcing.Context:
    """Safety stock, today's shipments and the destination for one of ``channel``'s orders."""
    if locations is None:
        locations = list(channel.locations.filter(active=True))
    location_ids = [loc.pk for loc in locations]
    safety: dict[int, int] = {}
    rules = ChannelStockRule.objects.filter(channel=channel).order_by("location_id")
    default = 0
    for rule in rules:
        if rule.location_id is None:
            default = rule.safety_stock
        else:
            safety[rule.location_id] = rule.safety_stock
    safety = {pk: safety.get(pk, default) for pk in location_ids if safety.get(pk, default)}
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
    destination = sourcing.Destination(
        country=str(getattr(address, "country", "") or "").upper(),
        postal_code=str(getattr(address, "postal_code", "") or ""),
    )
    return sourcing.Context(safety_stock=safety, shipments_today=today, destination=destination)


def explanation(*, skus: list[str], route: sourcing.Plan) -> dict:
    """The stored/served shape: ``{"summary": {...}, "lines": [{"sku", ...decision}]}``."""
    lines = [{"sku": sku, **route.decisions.get(i, {})} for i, sku in enumerate(skus)]
    return {"summary": route.summary, "lines": lines}


def routing_record(*, order: Order, lines: list[OrderLine], route: sourcing.Plan, actor: str) -> OrderEvent:
    """Keep the decision on the order (its ``routed`` event), in the placing transaction."""
    return lifecycle.record(
        order, EVENT_TYPE, actor=actor, data=explanation(skus=[ln.sku for ln in lines], route=route)
    )


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
    return {"channel": channel.code, **explanation(skus=skus, route=route)}
