"""Every write to orders: place, cancel, allocate backorders.

Each public function is one transaction and raises a domain error when a rule
says no. Locks follow one order everywhere: Order rows, then stock rows, each
set by primary key (``inventory.locks``), so concurrent orders never deadlock.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_countries import countries

from inventory import locks as stock_locks
from inventory import services as stock_services
from inventory.models import Location, Product, StockItem

from . import lifecycle, placement, shipment_lifecycle, sourcing
from .errors import AlreadyShipped, ErrorItem, IdempotencyConflict, InvalidInput
from .models import Customer, Order, OrderLine, Shipment, ShipmentLine
from .models import OrderStatus as S

MAX_LINES = 500
MAX_QUANTITY = 100_000
SHIPPED_STATUSES = (Shipment.Status.SHIPPED, Shipment.Status.IN_TRANSIT, Shipment.Status.DELIVERED)


def actor_for(user) -> str:
    """How the event log names who did something: ``channel:web``, ``user:alice`` or ``system``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "system"
    channel = getattr(user, "channel", None)
    if channel is not None:
        return f"channel:{channel.code}"
    return f"user:{user.get_username()}"


@dataclass(frozen=True)
class CustomerInput:
    email: str
    name: str = ""
    phone: str = ""
    kind: str = Customer.Kind.CONSUMER


@dataclass(frozen=True)
class AddressInput:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    region: str = ""


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class OrderInput:
    external_id: str
    customer: CustomerInput
    shipping_address: AddressInput
    lines: list[LineInput] = field(default_factory=list)
    placed_at: datetime | None = None
    currency: str | None = None
    shipping_method: str = ""
    payment_status: str = Order.PaymentStatus.PAID
    promised_delivery_date: date | None = None
    notes: str = ""

    def fingerprint(self) -> str:
        """Digest of the payload as sent, so a retry of the same order is recognised."""

        def normal(value):
            if isinstance(value, Decimal):
                return str(value.quantize(Decimal("0.01")))
            if isinstance(value, datetime):
                return value.astimezone(UTC).isoformat()
            if isinstance(value, date):
                return value.isoformat()
            return str(value)

        raw = json.dumps(asdict(self), sort_keys=True, default=normal)
        return hashlib.sha256(raw.encode()).hexdigest()


def _validate(data: OrderInput, products: dict[str, Product]) -> list[ErrorItem]:
    errors: list[ErrorItem] = []
    if not 1 <= len(data.external_id) <= 64:
        errors.append(ErrorItem("invalid_length", "external_id must be 1 to 64 characters.", "external_id"))
    if data.shipping_address.country.upper() not in countries:
        errors.append(
            ErrorItem(
                "invalid_country",
                f"{data.shipping_address.country!r} is not an ISO 3166-1 alpha-2 country code.",
                "shipping_address.country",
            )
        )
    if data.customer.kind not in Customer.Kind.values:
        errors.append(ErrorItem("invalid_choice", "kind must be consumer or business.", "customer.kind"))
    if data.payment_status not in Order.PaymentStatus.values:
        errors.append(ErrorItem("invalid_choice", "payment_status must be paid or pending.", "payment_status"))
    if not 1 <= len(data.lines) <= MAX_LINES:
        errors.append(ErrorItem("invalid_line_count", f"An order has 1 to {MAX_LINES} lines.", "lines"))
    seen: set[str] = set()
    for i, line in enumerate(data.lines):
        product = products.get(line.sku)
        if line.sku in seen:
            errors.append(
                ErrorItem("duplicate_sku", f"SKU {line.sku!r} appears on more than one line.", f"lines.{i}.sku")
            )
        seen.add(line.sku)
        if product is None:
            errors.append(ErrorItem("unknown_sku", f"No product with SKU {line.sku!r}.", f"lines.{i}.sku"))
        elif not product.active:
            errors.append(ErrorItem("inactive_sku", f"Product {line.sku!r} is not for sale.", f"lines.{i}.sku"))
        if not 1 <= line.quantity <= MAX_QUANTITY:
            errors.append(
                ErrorItem("invalid_quantity", f"quantity must be from 1 to {MAX_QUANTITY}.", f"lines.{i}.quantity")
            )
        if line.unit_price is not None and line.unit_price < 0:
            errors.append(ErrorItem("negative_price", "unit_price must not be negative.", f"lines.{i}.unit_price"))
    return errors


def _channel_locations(channel) -> list[Location]:
    return list(channel.locations.filter(active=True))


def place_order(*, channel, data: OrderInput, actor: str) -> tuple[Order, bool]:
    """Store an order, reserve what stock allows, backorder the rest.

    Idempotent on (channel, external_id): the same payload again returns the
    existing order and ``created=False``; other content is ``IdempotencyConflict``.
    Never fails for lack of stock. Costs the same number of queries whatever
    the number of lines.
    """
    fingerprint = data.fingerprint()
    try:
        return _place_order(channel=channel, data=data, fingerprint=fingerprint, actor=actor)
    except IntegrityError:
        # Two requests with the same external_id raced and the other one committed
        # first: answer as a retry would. Any other integrity error is a real bug.
        replayed = _replayed_order(channel=channel, data=data, fingerprint=fingerprint)
        if replayed is None:
            raise
        return replayed, False


def _replayed_order(*, channel, data: OrderInput, fingerprint: str) -> Order | None:
    existing = Order.objects.filter(channel=channel, external_id=data.external_id).first()
    if existing is not None and existing.fingerprint != fingerprint:
        raise IdempotencyConflict(
            f"Order {data.external_id!r} was already placed by channel {channel.code} with other content.",
            attr="external_id",
        )
    return existing


@transaction.atomic
def _place_order(*, channel, data: OrderInput, fingerprint: str, actor: str) -> tuple[Order, bool]:
    existing = _replayed_order(channel=channel, data=data, fingerprint=fingerprint)
    if existing is not None:
        return existing, False

    products = {p.sku: p for p in Product.objects.filter(sku__in=[line.sku for line in data.lines])}
    errors = _validate(data, products)
    if errors:
        raise InvalidInput(errors)

    now = timezone.now()
    customer, _ = Customer.objects.get_or_create(
        email=data.customer.email.lower(),
        defaults={"name": data.customer.name, "phone": data.customer.phone, "kind": data.customer.kind},
    )

    demands = [
        sourcing.LineDemand(key=i, product_id=products[line.sku].pk, quantity=line.quantity)
        for i, line in enumerate(data.lines)
    ]
    locations = _channel_locations(channel)
    stock = stock_locks.stock_items_lock(
        product_ids={d.product_id for d in demands}, location_ids=[loc.pk for loc in locations]
    )
    from . import routing  # the routing decision's inputs and record (orders/routing.py)

    context = routing.context_for(channel=channel, address=data.shipping_address, locations=locations)
    route = sourcing.plan(demands=demands, locations=locations, stock=stock, context=context)

    prices = [
        placement.unit_price(
            channel=channel, customer=customer, product=products[line.sku], quantity=line.quantity, sent=line.unit_price
        )
        for line in data.lines
    ]
    subtotal = sum((p * line.quantity for p, line in zip(prices, data.lines, strict=True)), Decimal("0.00"))
    address = data.shipping_address
    awaiting_payment = data.payment_status == Order.PaymentStatus.PENDING and customer.kind == Customer.Kind.CONSUMER
    order = Order.objects.create(
        channel=channel,
        external_id=data.external_id,
        customer=customer,
        placed_at=data.placed_at or now,
        currency=(data.currency or channel.currency).upper(),
        ship_name=address.name,
        ship_line1=address.line1,
        ship_line2=address.line2,
        ship_city=address.city,
        ship_region=address.region,
        ship_postal_code=address.postal_code,
        ship_country=address.country.upper(),
        shipping_method=data.shipping_method,
        payment_status=data.payment_status,
        hold_reason="payment_pending" if awaiting_payment else "",
        promised_delivery_date=data.promised_delivery_date,
        notes=data.notes,
        subtotal=subtotal,
        total=subtotal,
        fingerprint=fingerprint,
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=products[line.sku],
            sku=line.sku,
            name=products[line.sku].name,
            quantity=line.quantity,
            unit_price=price,
            quantity_reserved=route.reserved_for(i),
            quantity_backordered=route.backordered.get(i, 0),
            quantity_filled_at_receipt=route.reserved_for(i),
        )
        for i, (line, price) in enumerate(zip(data.lines, prices, strict=True))
    )
    lifecycle.record(order, "placed", actor=actor, at=now, data={"external_id": data.external_id})
    routing.routing_record(order=order, lines=lines, route=route, actor=actor)
    _reserve(order=order, lines=lines, allocations=route.allocations)

    held_for = placement.hold_reason(order=order, lines=lines)
    if awaiting_payment:
        lifecycle.apply(order, S.ON_HOLD, actor=actor, data={"reason": "payment_pending"})
    elif held_for:
        order.hold_reason = held_for
        lifecycle.apply(order, S.ON_HOLD, actor=actor, data={"reason": held_for})
    elif route.backordered:
        lifecycle.apply(order, S.BACKORDERED, actor=actor, data=_backorder_data(lines))
    else:
        lifecycle.apply(order, S.RECEIVED, actor=actor)
    return order, True


def _backorder_data(lines: list[OrderLine]) -> dict:
    return {"backordered": {line.sku: line.quantity_backordered for line in lines if line.quantity_backordered}}


def _reserve(
    *,
    order: Order,
    lines: list[OrderLine],
    allocations: list[sourcing.Allocation],
    append_to_pending: bool = False,
) -> list[Shipment]:
    """Reserve the allocations and record them as shipment lines, one shipment per location.

    A pending shipment of the order at that location takes the new units; a
    batch of inserts, whatever the line count.
    """
    if not allocations:
        return []
    per_item: dict[int, int] = defaultdict(int)
    for a in allocations:
        per_item[a.stock_item.pk] += a.quantity
    stock_services.stock_reserve(quantities=per_item)

    by_location: dict[int, Shipment] = {}
    if append_to_pending:
        by_location = {s.location_id: s for s in order.shipments.filter(status=Shipment.Status.PENDING)}
    fresh = []
    kinds = {a.stock_item.location_id: a.stock_item.location.kind for a in allocations}
    for location_id, kind in kinds.items():
        if location_id not in by_location:
            shipment = Shipment(order=order, location_id=location_id, fulfillment=kind)
            by_location[location_id] = shipment
            fresh.append(shipment)
    Shipment.objects.bulk_create(fresh)
    ShipmentLine.objects.bulk_create(
        ShipmentLine(
            shipment=by_location[a.stock_item.location_id],
            order_line=lines[a.key],
            stock_item=a.stock_item,
            quantity=a.quantity,
        )
        for a in allocations
    )
    return fresh


def _shipment_lines_open(order: Order) -> list[ShipmentLine]:
    return list(
        ShipmentLine.objects.filter(shipment__order=order, shipment__status__in=Shipment.OPEN_STATUSES)
        .select_related("shipment")
        .order_by("stock_item_id")
    )


@transaction.atomic
def cancel_order(*, order: Order, reason: str, actor: str) -> Order:
    """Cancel and release every reservation. Refused once any shipment has shipped."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.shipments.filter(status__in=SHIPPED_STATUSES).exists():
        raise AlreadyShipped(f"Order {order.number} has shipped; it can no longer be cancelled.")
    if not lifecycle.can_move(order, S.CANCELLED):
        lifecycle.apply(order, S.CANCELLED, actor=actor)  # raises InvalidTransition with the rule
    open_lines = _shipment_lines_open(order)
    release: dict[int, int] = defaultdict(int)
    for sl in open_lines:
        release[sl.stock_item_id] += sl.quantity
    if release:
        # Lock the stock rows in pk order before touching them, as every writer does.
        list(StockItem.objects.select_for_update().filter(pk__in=list(release)).order_by("pk"))
        stock_services.stock_release(quantities=release)
    for shipment in {sl.shipment_id: sl.shipment for sl in open_lines}.values():
        shipment_lifecycle.apply(shipment, Shipment.Status.CANCELLED, actor=actor, data={"reason": reason})
    order.lines.update(quantity_reserved=0, quantity_backordered=0)
    lifecycle.apply(order, S.CANCELLED, actor=actor, data={"reason": reason})
    return order


@transaction.atomic
def backorders_allocate(*, product_ids: list[int], actor: str = "system") -> list[Order]:
    """Give newly arrived stock to waiting backorders, oldest order first, as far as it goes.

    Runs after stock grows (``inventory.signals.stock_arrived``). Orders on hold
    or cancelled do not take stock. Returns the orders that received units.
    """
    candidates = list(
        Order.objects.select_for_update()
        .filter(
            # A subquery, not a join + DISTINCT: PostgreSQL refuses FOR UPDATE with DISTINCT.
            pk__in=OrderLine.objects.filter(product_id__in=product_ids, quantity_backordered__gt=0).values("order_id"),
            status__in=[S.BACKORDERED, S.RECEIVED, S.PICKED, S.PACKED],
        )
        .order_by("pk")
    )
    candidates.sort(key=lambda o: (o.placed_at, o.pk))
    if not candidates:
        return []
    lines_by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in (
        OrderLine.objects.filter(order__in=candidates, product_id__in=product_ids, quantity_backordered__gt=0)
        .select_related("product")
        .order_by("id")
    ):
        lines_by_order[line.order_id].append(line)
    location_ids_by_channel = {
        ch_id: [loc.pk for loc in Location.objects.filter(channels__id=ch_id, active=True)]
        for ch_id in {o.channel_id for o in candidates}
    }
    all_location_ids = {pk for ids in location_ids_by_channel.values() for pk in ids}
    stock = stock_locks.stock_items_lock(product_ids=product_ids, location_ids=all_location_ids)
    locations = {loc.pk: loc for loc in Location.objects.filter(pk__in=all_location_ids)}

    served = []
    for order in candidates:
        lines = lines_by_order.get(order.pk, [])
        order_locations = [locations[pk] for pk in location_ids_by_channel[order.channel_id]]
        order_stock = [item for item in stock if item.location_id in location_ids_by_channel[order.channel_id]]
        demands = [
            sourcing.LineDemand(key=i, product_id=line.product_id, quantity=line.quantity_backordered)
            for i, line in enumerate(lines)
        ]
        route = sourcing.plan(demands=demands, locations=order_locations, stock=order_stock)
        if not route.allocations:
            continue
        _reserve(order=order, lines=lines, allocations=route.allocations, append_to_pending=True)
        for a in route.allocations:  # the next order plans against what is left
            a.stock_item.reserved += a.quantity
        for i, line in enumerate(lines):
            got = route.reserved_for(i)
            if got:
                OrderLine.objects.filter(pk=line.pk).update(
                    quantity_reserved=F("quantity_reserved") + got,
                    quantity_backordered=F("quantity_backordered") - got,
                )
                line.quantity_backordered -= got
        allocated = {line.sku: route.reserved_for(i) for i, line in enumerate(lines) if route.reserved_for(i)}
        lifecycle.record(order, "backorder_allocated", actor=actor, data={"allocated": allocated})
        still_waiting = order.lines.filter(quantity_backordered__gt=0).exists()
        if order.status == S.BACKORDERED and not still_waiting:
            lifecycle.apply(order, S.RECEIVED, actor=actor)
        elif order.status in (S.PICKED, S.PACKED):
            lifecycle.apply(order, S.RECEIVED if not still_waiting else S.BACKORDERED, actor=actor)
        served.append(order)
    return served
