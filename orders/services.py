"""Every write to orders: place, cancel, allocate backorders.

Each public function is one transaction and raises a domain error when a rule
says no. Locks follow one order everywhere: Order rows, then stock rows, each
set by primary key (``inventory.locks``), so concurrent orders never deadlock.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, is_dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, router, transaction
from django.db.models import F
from django.utils import timezone
from django_countries import countries

from inventory import bulk
from inventory import locks as stock_locks
from inventory import services as stock_services
from inventory.json_text import dumps_like
from inventory.models import Location, Product, StockItem

from . import backorder_policy, lifecycle, placement, shipment_lifecycle, sourcing
from .errors import AlreadyShipped, ErrorItem, IdempotencyConflict, InvalidInput, NotOnHold, ShippingLocked
from .models import Customer, Order, OrderLine, Shipment, ShipmentLine
from .models import OrderStatus as S

MAX_LINES = 500
MAX_QUANTITY = 100_000
# Every status a parcel can have once it left: ``exception`` only follows ``shipped`` (the parcel is out there).
SHIPPED_STATUSES = (
    Shipment.Status.SHIPPED,
    Shipment.Status.IN_TRANSIT,
    Shipment.Status.EXCEPTION,
    Shipment.Status.DELIVERED,
)


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
        """Digest of the payload as sent, so a retry of the same order is recognised.

        Stored and compared across versions: the digest of ``json.dumps(asdict(self), sort_keys=True,
        default=...)``, byte for byte (tests/orders/test_fingerprint.py holds that algorithm), without
        asdict's deep copy of every value.
        """
        raw = _fingerprint_text(_plain(self))
        return hashlib.sha256(raw.encode()).hexdigest()


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_AS_THEY_ARE = frozenset({str, int, float, bool, type(None)})  # exact types: leaves JSON writes itself


def _plain(value: Any) -> Any:
    """``dataclasses.asdict`` as JSON sees it: dataclasses as dicts, the other values themselves, not copies;
    a Decimal, datetime or date already as ``_fingerprint_value`` writes it (JSON would call it for them)."""
    kind = type(value)
    if kind in _AS_THEY_ARE:
        return value
    if kind is Decimal or kind is datetime or kind is date:
        return _fingerprint_value(value)
    names = _FIELD_NAMES.get(kind)
    if names is None and is_dataclass(kind):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclass_fields(value))
    if names is not None:
        plain = {}
        for name in names:
            item = getattr(value, name)
            plain[name] = item if type(item) in _AS_THEY_ARE else _plain(item)
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}  # keys as JSON takes them, or refuses
    return value


def _fingerprint_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_fingerprint_text = dumps_like(sort_keys=True, default=_fingerprint_value)


_CUSTOMER_KINDS, _PAYMENT_STATUSES = frozenset(Customer.Kind.values), frozenset(Order.PaymentStatus.values)


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
    if data.customer.kind not in _CUSTOMER_KINDS:
        errors.append(ErrorItem("invalid_choice", "kind must be consumer or business.", "customer.kind"))
    if data.payment_status not in _PAYMENT_STATUSES:
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


def place_order(
    *, channel, data: OrderInput, actor: str, also: Callable[[Order, bulk.Batch], None] | None = None
) -> tuple[Order, bool]:
    """Store an order, reserve what stock allows, backorder the rest.

    Idempotent on (channel, external_id): the same payload again returns the
    existing order and ``created=False``; other content is ``IdempotencyConflict``.
    Never fails for lack of stock. Costs the same number of queries whatever
    the number of lines. ``also(order, writes)``: more writes that go with a new
    order, added to its batch (its transaction and round trip): the intake's raw
    payload, recorded as imported; the two commit together or not at all.
    """
    fingerprint = data.fingerprint()
    try:
        return _place_order(channel=channel, data=data, fingerprint=fingerprint, actor=actor, also=also)
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
        raise _conflict(channel=channel, external_id=data.external_id)
    return existing


def _conflict(*, channel, external_id: str) -> IdempotencyConflict:
    return IdempotencyConflict(
        f"Order {external_id!r} was already placed by channel {channel.code} with other content.", attr="external_id"
    )


@transaction.atomic
def _place_order(
    *, channel, data: OrderInput, fingerprint: str, actor: str, also: Callable[[Order, bulk.Batch], None] | None
) -> tuple[Order, bool]:
    from . import routing  # the routing decision's inputs and record (orders/routing.py)

    # Round trips, not statements, cost most here: the reads, the stock lock and the new rows' keys go in
    # one, and every write in one with the COMMIT when this is the outermost transaction (``inventory.bulk``).
    # No look-up for a replay first: the order's unique (channel, external_id) refuses a
    # second insert and place_order answers it from the stored order (one query less per order).
    alias = router.db_for_write(Order)
    skus = [line.sku for line in data.lines]
    product_rows, customer_rows, location_rows, stock_rows, key_rows = bulk.fetch_together(
        alias,
        _products_statement(skus),
        _customer_statement(data.customer),
        routing.channel_locations_statement(channel),
        # The stock rows are locked with the reads, by what the reads find (the same products and
        # locations): one round trip less per order than reading first, for a lock held over this
        # function's few milliseconds of Python; an order refused below releases it at once.
        _stock_lock_statement(skus, locations=routing.channel_location_ids_statement(channel)),
        bulk.keys_statement(alias, {Order: 1, OrderLine: len(data.lines)}),  # the rows the others point to
    )
    products = {p.sku: p for p in bulk.instances(Product, product_rows, alias)}
    errors = _validate(data, products)
    if errors:
        existing = _replayed_order(channel=channel, data=data, fingerprint=fingerprint)
        transaction.set_rollback(True)  # the customer a refused order named is not kept
        if existing is not None:  # a retry of an order placed before its SKU was retired: still the same order
            return existing, False
        raise InvalidInput(errors)

    now = timezone.now()
    customer = _customer_read(customer_rows, data.customer)

    demands = [
        sourcing.LineDemand(key=i, product_id=products[line.sku].pk, quantity=line.quantity)
        for i, line in enumerate(data.lines)
    ]
    locations, safety = routing.channel_locations_read(location_rows)  # with the safety stock
    context = routing.context_for(channel=channel, address=data.shipping_address, locations=locations, safety=safety)
    prices = _line_prices(channel=channel, customer=customer, data=data, products=products)
    stock = stock_locks.stock_items_locked(stock_rows, locations={loc.pk: loc for loc in locations})
    route = sourcing.plan(demands=demands, locations=locations, stock=stock, context=context)
    backorder_policy.reject_unreservable(channel=channel, route=route)  # the channel's policy; no query

    awaiting_payment = _awaits_payment(data=data, customer=customer)
    order = _order_row(channel=channel, data=data, customer=customer, prices=prices, fingerprint=fingerprint, now=now)
    backorder_policy.uncharge_rejected(order=order, prices=prices, route=route)
    rows = _line_rows(order=order, data=data, products=products, prices=prices, route=route)
    bulk.give_keys(key_rows, [order], rows)
    # The order is inserted with the status it goes to unless a hold check holds it (the checks need it
    # stored): no UPDATE of the status after, but for an order a check holds.
    to, event_data = _outcome_unchecked(lines=rows, route=route, awaiting_payment=awaiting_payment)
    at = timezone.now()  # the move's time (its received_at), and the routing's: the timeline keeps them in order
    as_placed = _move_new(order, to, at=at)
    # One round trip for every write; a hold check that reads or writes sends what is batched first.
    with bulk.Batch(alias, commit=True) as writes:
        writes.insert(Order, [order])
        lines = writes.insert(OrderLine, rows)
        placed = lifecycle.event(order, "placed", actor=actor, at=now, data={"external_id": data.external_id})
        routed = routing.routing_record(order=order, lines=lines, route=route, actor=actor, save=False, at=at)
        shipments = _reserve(order=order, lines=lines, allocations=route.allocations, writes=writes)

        held = _outcome_checked(order=order, lines=lines, unchecked=(to, event_data), awaiting_payment=awaiting_payment)
        if held[0] != to:  # a check holds it: undo the move made before the insert, make this one
            (to, event_data), (at, changed) = held, _hold_instead(order, as_placed=as_placed, held=held)
            order.save(update_fields=changed)
        elif not _STAMPS.intersection(as_placed):
            at = timezone.now()  # no stamp dates the move: date it after what the checks recorded, as move() would
        final = lifecycle.event(order, to, actor=actor, data=event_data, at=at)
        lifecycle.record_many([placed, routed, final], batch=writes)
        if also is not None:
            also(order, writes)
    # Sent with the COMMIT: from here nothing touches the database (the shipments have their keys now).
    _remember_placed(order=order, lines=lines, shipments=shipments, locations=locations)
    return order, True


def _products_statement(skus: list[str]) -> bulk.Statement | None:
    """``Product.objects.filter(sku__in=skus)``, the statement written out (every order reads its
    products; composing the query with the ORM cost more CPU than running it)."""
    if not skus:
        return None
    quote, meta = transaction.get_connection().ops.quote_name, Product._meta
    sql = (
        f"SELECT {', '.join(quote(f.column) for f in meta.concrete_fields)} FROM {quote(meta.db_table)} "
        f"WHERE {quote(meta.get_field('sku').column)} IN ({', '.join(['%s'] * len(skus))})"
    )
    return sql, skus


def _stock_lock_statement(skus: list[str], *, locations: bulk.Statement) -> bulk.Statement | None:
    """The stock rows of these SKUs at the locations a sub-select names, locked (primary-key order)."""
    if not skus:
        return None
    quote, meta = transaction.get_connection().ops.quote_name, Product._meta
    products = (
        f"SELECT {quote(meta.pk.column)} FROM {quote(meta.db_table)} "
        f"WHERE {quote(meta.get_field('sku').column)} IN ({', '.join(['%s'] * len(skus))})",
        skus,
    )
    return stock_locks.stock_items_lock_where_statement(products=products, locations=locations)


def _hold_instead(order: Order, *, as_placed: dict[str, Any], held: tuple[str, dict]) -> tuple[datetime, set[str]]:
    """A hold check holds an order inserted with the move it was to make (``_move_new``): undo that move and
    make the hold's, on the instance; the move's time and the fields to write."""
    to, data = held
    at = timezone.now()
    for name, value in as_placed.items():
        setattr(order, name, value)
    order.hold_reason = data["reason"]
    return at, {*as_placed, *_move_new(order, to, at=at)}


def _move_new(order: Order, to: str, *, at: datetime) -> dict[str, Any]:
    """Move an order still ``placed`` to ``to`` as ``lifecycle.move`` does, unsaved; the fields it set, as they were."""
    before = {name: getattr(order, name) for name in _MOVED_FIELDS}
    return {name: before[name] for name in lifecycle._step(order, to, at=at)}


_STAMPS = frozenset(lifecycle._STAMPS.values())  # the times a move stamps on the order (received_at...)
_MOVED_FIELDS = ("status", "updated_at", *_STAMPS, "hold_reason")


def _customer_statement(sent: CustomerInput) -> bulk.Statement | None:
    """The customer with this e-mail (case-insensitive), created on first sight, in one statement sent with
    placing's other reads (read it with ``_customer_read``); None off PostgreSQL.

    The INSERT inserts nothing when the SELECT found the customer (so no id is drawn from the sequence)
    and nothing when another order inserted it since.
    """
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return None
    meta, quote = Customer._meta, connection.ops.quote_name
    _, fields, values = _customer_values(sent, connection)
    table, insert = quote(meta.db_table), ", ".join(quote(f.column) for f in fields)
    columns = ", ".join(quote(f.column) for f in meta.concrete_fields)
    sql = (
        f"WITH found AS (SELECT {columns} FROM {table} WHERE {quote('email')} = %s), "
        f"made AS (INSERT INTO {table} ({insert}) SELECT {', '.join(['%s'] * len(values))} "
        f"WHERE NOT EXISTS (SELECT 1 FROM found) ON CONFLICT ({quote('email')}) DO NOTHING RETURNING {columns}) "
        f"SELECT {columns} FROM found UNION ALL SELECT {columns} FROM made"
    )
    return sql, [sent.email.lower(), *values]


def _customer_read(rows: list[tuple] | None, sent: CustomerInput) -> Customer:
    """``_customer_statement``'s customer. Off PostgreSQL (no statement): one SELECT for a known customer,
    and a new one is one INSERT ... ON CONFLICT DO NOTHING (no savepoint round trips)."""
    email = sent.email.lower()
    connection = transaction.get_connection()
    if rows is None:
        customer = Customer.objects.filter(email=email).first()
        if customer is not None:
            return customer
        quote = connection.ops.quote_name
        customer, fields, values = _customer_values(sent, connection)
        sql = (
            f"INSERT INTO {quote(Customer._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(values))}) ON CONFLICT ({quote('email')}) DO NOTHING "
            f"RETURNING {quote(Customer._meta.pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            row = cursor.fetchone()
        if row is None:  # another order created this customer since our SELECT
            return Customer.objects.get(email=email)
        customer.pk = row[0]
        customer._state.adding = False
        customer._state.db = connection.alias
        return customer
    found = bulk.instances(Customer, rows, connection.alias)
    if not found:  # another order created this customer since our statement began
        return Customer.objects.get(email=email)
    return found[0]


def _customer_values(sent: CustomerInput, connection) -> tuple[Customer, list, list]:
    """A new customer, unsaved, its columns (all but the key) and their values as the database takes them."""
    customer = Customer(email=sent.email.lower(), name=sent.name, phone=sent.phone, kind=sent.kind)
    fields = [f for f in Customer._meta.concrete_fields if not f.primary_key]
    return customer, fields, [f.get_db_prep_save(f.pre_save(customer, True), connection) for f in fields]


def _remember_placed(*, order: Order, lines: list[OrderLine], shipments: list[Shipment], locations) -> None:
    """Keep the rows just written on the order, as a prefetch would, so the answer renders without reading back."""
    by_pk = {loc.pk: loc for loc in locations}
    for shipment in shipments:
        shipment.location = by_pk[shipment.location_id]
        _prefetched(shipment, "lines", shipment.placed_lines)
    _prefetched(order, "lines", lines)
    _prefetched(order, "shipments", shipments)


def _prefetched(instance, name: str, rows: list) -> None:
    relation = instance._meta.get_field(name)
    queryset = getattr(instance, name).all()  # filtered to the instance, so a further .filter() still queries it
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[relation.cache_name] = queryset


# Builders shared with orders.bulk_placement (imports place a chunk with the same rules): no queries.


def _line_prices(*, channel, customer: Customer, data: OrderInput, products: dict[str, Product]) -> list[Decimal]:
    lines = [(products[line.sku], line.quantity, line.unit_price) for line in data.lines]
    return placement.unit_prices(channel=channel, customer=customer, lines=lines)


def _awaits_payment(*, data: OrderInput, customer: Customer) -> bool:
    """A consumer's unpaid order waits for the payment; a business pays on its terms."""
    return data.payment_status == Order.PaymentStatus.PENDING and customer.kind == Customer.Kind.CONSUMER


def _order_row(
    *, channel, data: OrderInput, customer: Customer, prices: list[Decimal], fingerprint: str, now: datetime
) -> Order:
    """The order as placed (status ``placed``), unsaved."""
    subtotal = sum((p * line.quantity for p, line in zip(prices, data.lines, strict=True)), Decimal("0.00"))
    address = data.shipping_address
    return bulk.unsaved(
        Order,
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
        hold_reason="payment_pending" if _awaits_payment(data=data, customer=customer) else "",
        promised_delivery_date=data.promised_delivery_date,
        notes=data.notes,
        subtotal=subtotal,
        total=subtotal,
        fingerprint=fingerprint,
    )


def _line_rows(
    *, order: Order, data: OrderInput, products: dict[str, Product], prices: list[Decimal], route: sourcing.Plan
) -> list[OrderLine]:
    """The order's lines with what the route reserved and backordered, unsaved."""
    return [
        bulk.unsaved(
            OrderLine,
            order=order,
            product=products[line.sku],
            sku=line.sku,
            name=products[line.sku].name,
            quantity=line.quantity,
            unit_price=price,
            quantity_reserved=route.reserved_for(i),
            quantity_backordered=route.backordered.get(i, 0),
            quantity_filled_at_receipt=route.reserved_for(i),
            quantity_cancelled=route.rejected.get(i, 0),
        )
        for i, (line, price) in enumerate(zip(data.lines, prices, strict=True))
    ]


def _placement_outcome(
    *, order: Order, lines: list[OrderLine], route: sourcing.Plan, awaiting_payment: bool
) -> tuple[str, dict | None]:
    """Where a freshly stored order goes next, and its event's data: on hold, backordered or received.

    Runs the registered hold checks (``orders.placement``) with the order and its lines stored.
    Units the channel refused (``orders.backorder_policy``) are named in the event; an order with
    every unit refused is cancelled (``out_of_stock``).
    """
    unchecked = _outcome_unchecked(lines=lines, route=route, awaiting_payment=awaiting_payment)
    return _outcome_checked(order=order, lines=lines, unchecked=unchecked, awaiting_payment=awaiting_payment)


def _outcome_checked(
    *, order: Order, lines: list[OrderLine], unchecked: tuple[str, dict | None], awaiting_payment: bool
) -> tuple[str, dict | None]:
    """Run the hold checks (but for a cancelled order): ``unchecked``, or ``on_hold`` when a check holds it.

    An unpaid consumer order stays held for its payment (the checks still run: they record what they found).
    """
    if unchecked[0] == S.CANCELLED:
        return unchecked
    held_for = placement.hold_reason(order=order, lines=lines)
    if held_for and not awaiting_payment:
        order.hold_reason = held_for
        return S.ON_HOLD, {"reason": held_for, **backorder_policy.rejected_data(lines)}
    return unchecked


def _outcome_unchecked(
    *, lines: list[OrderLine], route: sourcing.Plan, awaiting_payment: bool
) -> tuple[str, dict | None]:
    """``_placement_outcome`` unless a hold check holds the order: no check runs, no query."""
    rejected = backorder_policy.rejected_data(lines)
    if rejected and not route.allocations:
        return S.CANCELLED, {"reason": backorder_policy.OUT_OF_STOCK, **rejected}
    if awaiting_payment:
        return S.ON_HOLD, {"reason": "payment_pending", **rejected}
    if route.backordered:
        return S.BACKORDERED, _backorder_data(lines)
    return S.RECEIVED, rejected or None


def _backorder_data(lines: list[OrderLine]) -> dict:
    return {"backordered": {line.sku: line.quantity_backordered for line in lines if line.quantity_backordered}}


def _reserve(
    *,
    order: Order,
    lines: list[OrderLine],
    allocations: list[sourcing.Allocation],
    append_to_pending: bool = False,
    writes: bulk.Batch | None = None,
) -> list[Shipment]:
    """Reserve the allocations and record them as shipment lines, one shipment per location.

    A pending shipment of the order at that location takes the new units; a
    batch of inserts, whatever the line count, sent with ``writes`` when given.
    """
    if not allocations:
        return []
    if writes is None:
        with bulk.Batch(router.db_for_write(Shipment)) as batch:
            return _reserve(
                order=order, lines=lines, allocations=allocations, append_to_pending=append_to_pending, writes=batch
            )
    per_item: dict[int, int] = defaultdict(int)
    for a in allocations:
        per_item[a.stock_item.pk] += a.quantity
    stock_services.stock_reserve(quantities=per_item, batch=writes)

    by_location: dict[int, Shipment] = {}
    if append_to_pending:
        by_location = {s.location_id: s for s in order.shipments.filter(status=Shipment.Status.PENDING)}
    fresh, shipment_lines = _shipment_rows(order=order, lines=lines, allocations=allocations, by_location=by_location)
    for shipment in fresh:  # each new shipment, then its lines (they take its key from it)
        shipment.placed_lines = [sl for sl in shipment_lines if sl.shipment is shipment]  # for the answer
        writes.insert(Shipment, [shipment])
        writes.insert(ShipmentLine, shipment.placed_lines)
    new = {id(shipment) for shipment in fresh}
    writes.insert(ShipmentLine, [sl for sl in shipment_lines if id(sl.shipment) not in new])  # to pending ones
    return fresh


def _shipment_rows(
    *,
    order: Order,
    lines: list[OrderLine],
    allocations: list[sourcing.Allocation],
    by_location: dict[int, Shipment],
) -> tuple[list[Shipment], list[ShipmentLine]]:
    """New shipments (one per location not yet in ``by_location``) and the allocations' shipment lines, unsaved."""
    fresh = []
    kinds = {a.stock_item.location_id: a.stock_item.location.kind for a in allocations}
    for location_id, kind in kinds.items():
        if location_id not in by_location:
            shipment = bulk.unsaved(Shipment, order=order, location_id=location_id, fulfillment=kind)
            by_location[location_id] = shipment
            fresh.append(shipment)
    shipment_lines = [
        bulk.unsaved(
            ShipmentLine,
            shipment=by_location[a.stock_item.location_id],
            order_line=lines[a.key],
            stock_item=a.stock_item,
            quantity=a.quantity,
        )
        for a in allocations
    ]
    return fresh, shipment_lines


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

    Runs after stock grows (``inventory.signals.stock_arrived``) and on a beat.
    Orders on hold or cancelled do not take stock. Each order is sourced as
    placing sources it (``orders.routing``): its channel's safety stock is kept
    back, and a location at its daily shipment capacity opens no new shipment
    (it may still add to the order's pending shipment there); the shipments
    this run opens count towards that capacity. Returns the orders that received units.
    """
    from . import routing  # the inputs placing gives sourcing.plan (orders/routing.py)

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
    safety_by_channel = {
        ch_id: routing.safety_stock_for(channel=ch_id, location_ids=ids)
        for ch_id, ids in location_ids_by_channel.items()
    }
    today = routing.shipments_today(locations=locations.values())  # grows as this run opens shipments
    pending: dict[int, set[int]] = defaultdict(set)
    for order_id, location_id in Shipment.objects.filter(
        order__in=candidates, status=Shipment.Status.PENDING
    ).values_list("order_id", "location_id"):
        pending[order_id].add(location_id)

    served = []
    for order in candidates:
        lines = lines_by_order.get(order.pk, [])
        if not lines:  # a backorder cancelled (orders.backorder_policy) since the candidates were chosen
            continue
        order_locations = [locations[pk] for pk in location_ids_by_channel[order.channel_id]]
        order_stock = [item for item in stock if item.location_id in location_ids_by_channel[order.channel_id]]
        demands = [
            sourcing.LineDemand(key=i, product_id=line.product_id, quantity=line.quantity_backordered)
            for i, line in enumerate(lines)
        ]
        context = sourcing.Context(
            safety_stock=safety_by_channel[order.channel_id],
            shipments_today=dict(today),
            destination=routing.destination_of(order),
            open_shipment_locations=frozenset(pending[order.pk]),
        )
        route = sourcing.plan(demands=demands, locations=order_locations, stock=order_stock, context=context)
        if not route.allocations:
            continue
        _reserve(order=order, lines=lines, allocations=route.allocations, append_to_pending=True)
        for a in route.allocations:  # the next order plans against what is left
            a.stock_item.reserved += a.quantity
        for location_id in {a.stock_item.location_id for a in route.allocations} - pending[order.pk]:
            today[location_id] = today.get(location_id, 0) + 1  # a new shipment there
            pending[order.pk].add(location_id)
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


# --- Holds, payment and the ship-to address -------------------------------------------------------------------------
#
# An order on hold waits for a person (DESIGN.md). Releasing it moves it to received, or backordered when
# some quantity still waits for stock. A reason a person released (``released_hold`` in the event data) is
# theirs to decide and is not put back; the other reasons are checked again, so releasing one hold never
# slips an order past another (a consumer order still unpaid, an address that fails, a credit limit).

PAYMENT_PENDING = "payment_pending"


def _overridden_holds(order: Order) -> set[str]:
    """Hold reasons a person already released on this order."""
    return {
        data["released_hold"]
        for data in order.events.filter(data__has_key="released_hold").values_list("data", flat=True)
        if data.get("released_hold")
    }


def _next_hold_reason(order: Order, *, skip: set[str]) -> str:
    reasons = []
    if order.payment_status == Order.PaymentStatus.PENDING and order.customer.kind == Customer.Kind.CONSUMER:
        reasons.append(PAYMENT_PENDING)
    reasons += placement.hold_reasons(order=order, lines=list(order.lines.all()))
    return next((reason for reason in reasons if reason not in skip), "")


def _hold_lift(*, order: Order, actor: str, data: dict) -> Order:
    """Lift the order's current hold (locked, on hold): on to the next reason that applies, or out of hold."""
    skip = {order.hold_reason} | _overridden_holds(order)
    next_reason = _next_hold_reason(order, skip=skip)
    if next_reason:
        order.hold_reason = next_reason
        order.save(update_fields=["hold_reason", "updated_at"])
        lifecycle.record(order, "hold_changed", actor=actor, data={**data, "reason": next_reason})
        return order
    waiting = list(order.lines.filter(quantity_backordered__gt=0).values_list("product_id", flat=True))
    lifecycle.apply(order, S.BACKORDERED if waiting else S.RECEIVED, actor=actor, data=data)
    if waiting:
        # Stock that arrived while it was held went to others or waits: offer it now, not at the next sweep.
        from .tasks import backorders_allocate_task  # tasks import this module

        transaction.on_commit(lambda: backorders_allocate_task.delay(product_ids=waiting))
    return order


def _lock_order(order: Order) -> Order:
    return Order.objects.select_for_update().select_related("customer").get(pk=order.pk)


@transaction.atomic
def order_release_hold(*, order: Order, actor: str, note: str = "") -> Order:
    """A person releases an order on hold; ``NotOnHold`` (409) when it is not on hold.

    The event (``received`` or ``backordered``, or ``hold_changed`` when another
    reason still holds it) names the released reason and the note.
    """
    order = _lock_order(order)
    if order.status != S.ON_HOLD:
        raise NotOnHold(f"Order {order.number} is not on hold (it is {order.status}).", extra={"status": order.status})
    return _hold_lift(order=order, actor=actor, data={"released_hold": order.hold_reason, "note": note})


@transaction.atomic
def order_payment_confirm(*, order: Order, actor: str, reference: str = "") -> Order:
    """The payment came in: ``payment_status`` pending -> paid, and a ``payment_pending`` hold is lifted.

    Idempotent: confirming a paid order changes nothing (payment providers retry).
    """
    order = _lock_order(order)
    if order.payment_status == Order.PaymentStatus.PAID:
        return order
    order.payment_status = Order.PaymentStatus.PAID
    order.save(update_fields=["payment_status", "updated_at"])
    lifecycle.record(order, "payment_confirmed", actor=actor, data={"reference": reference})
    if order.status == S.ON_HOLD and order.hold_reason == PAYMENT_PENDING:
        _hold_lift(order=order, actor=actor, data={"resolved_hold": PAYMENT_PENDING})
    return order


_SHIP_TO = {
    "name": "ship_name",
    "line1": "ship_line1",
    "line2": "ship_line2",
    "city": "ship_city",
    "region": "ship_region",
    "postal_code": "ship_postal_code",
    "country": "ship_country",
}
SHIPPING_LOCKED_STATUSES = (S.SHIPPED, S.DELIVERED, S.CANCELLED)


@transaction.atomic
def order_update_shipping(
    *,
    order: Order,
    address: AddressInput,
    actor: str,
    shipping_method: str | None = None,
    notes: str | None = None,
) -> Order:
    """Staff correct the ship-to (and shipping method, notes); the address is checked again.

    One ``order_edited`` event lists what changed. A fixed address lifts an
    ``address_invalid`` hold; an address that now fails puts a received or
    backordered order on hold, and is refused (400, nothing saved) for an order
    already on the floor. The ship-to of a shipped, delivered or cancelled
    order is refused (409 ``shipping_locked``).
    """
    from . import address_checks  # beside the placement checks; imported here to keep module loading flat

    order = _lock_order(order)
    wanted = {name: str(getattr(address, key) or "").strip() for key, name in _SHIP_TO.items()}
    wanted["ship_country"] = wanted["ship_country"].upper()
    if shipping_method is not None:
        wanted["shipping_method"] = shipping_method
    if notes is not None:
        wanted["notes"] = notes
    changed = {name: value for name, value in wanted.items() if str(getattr(order, name)) != value}
    if not changed:
        return order
    address_changed = any(name in changed for name in _SHIP_TO.values())
    if address_changed and order.status in SHIPPING_LOCKED_STATUSES:
        raise ShippingLocked(f"Order {order.number} is {order.status}; its ship-to can no longer change.")
    if wanted["ship_country"] not in countries:
        raise InvalidInput(
            [ErrorItem("invalid_country", f"{wanted['ship_country']!r} is not an ISO 3166-1 alpha-2 code.", "country")]
        )
    for name, value in changed.items():
        setattr(order, name, value)
    problems = address_checks.order_address_problems(order) if address_changed else []
    if problems and order.status not in (S.RECEIVED, S.BACKORDERED, S.ON_HOLD):
        raise InvalidInput([ErrorItem(f"address_{p.code}", p.detail, f"shipping_address.{p.field}") for p in problems])
    order.save(update_fields=[*changed, "updated_at"])
    lifecycle.record(order, "order_edited", actor=actor, data={"changed": changed})
    if problems:
        lifecycle.record(order, "address_check_failed", actor=actor, data={"problems": [p.as_dict() for p in problems]})
        if order.status != S.ON_HOLD:
            order.hold_reason = address_checks.HOLD_REASON
            lifecycle.apply(order, S.ON_HOLD, actor=actor, data={"reason": address_checks.HOLD_REASON})
    elif address_changed and order.status == S.ON_HOLD and order.hold_reason == address_checks.HOLD_REASON:
        _hold_lift(order=order, actor=actor, data={"resolved_hold": address_checks.HOLD_REASON})
    return order
