"""Place a chunk of orders in one transaction (bulk imports), with ``place_order``'s rules and answers.

``place_order`` costs a transaction and about a dozen statements per order; an
import of 100,000 orders wants a chunk (500-2,000 orders) per transaction and
one statement per table per chunk: orders, lines, shipments, shipment lines and
events are bulk-inserted, the chunk's stock rows are locked once (primary-key
order, ``inventory.locks``) and reserved with one UPDATE. Sourcing
(``sourcing.plan``) runs per order in memory against the locked rows, each
order taking its units from what the previous ones left, as if they had been
placed one after another in the chunk's order. ``place_orders_reserving_last``
(chunks placed side by side by a parallel import) plans against the stock rows
as read and locks them only for the reservation, the transaction's last write
(``StockCheck``), refused if the stock moved too far meanwhile.

Per order, the same answer as ``place_order``: placed (``created``), a
duplicate of an order already placed with the same content (in an earlier run
or earlier in the chunk), or failed with the errors ``place_order`` would
raise (validation, ``idempotency_conflict``), while the rest of the chunk is
placed. The builders, validation and outcome rules are ``orders.services``'s
own, so both paths cannot drift apart.

As ``place_order`` does, an order is stored with the status it moves to
(received, backordered, on hold for payment, cancelled); only one a hold check
holds is updated after. One difference: registered hold checks
(``orders.placement``) run after the whole chunk's orders and lines are
stored, so a check that counts *other* orders sees the chunk's later orders
too (with the status they move to unless a check holds them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory import locks as stock_locks
from inventory import services as stock_services
from inventory.bulk import find_each, insert_many
from inventory.models import Product, StockItem

from . import backorder_policy, lifecycle, routing, services, sourcing
from .errors import DomainError, ErrorItem, InvalidInput
from .models import Customer, Order, OrderEvent, OrderLine, Shipment, ShipmentLine

# A concurrent placement of one of the chunk's external ids makes the chunk's insert fail; a retry sees it.
RACE_RETRIES = 3


class StockMoved(Exception):
    """The stock a chunk was planned against changed too much before it was reserved (``StockCheck``):
    place the chunk again, its stock locked first (``place_orders``)."""


@dataclass
class Placement:
    """What became of one order of the chunk: ``order`` and ``created`` as ``place_order`` returns them,
    or ``error`` (the domain error ``place_order`` would have raised) and no order."""

    data: services.OrderInput
    order: Order | None = None
    created: bool = False
    error: DomainError | None = None

    @property
    def errors(self) -> list[ErrorItem]:
        return self.error.items if self.error is not None else []


@dataclass
class StockCheck:
    """A chunk's reservation, made last: ``place_orders_reserving_last`` plans the chunk against its stock rows
    as read, unlocked, and stores every other row; ``reserve()``, the transaction's last write, locks those
    rows (primary-key order), checks the plan still holds and reserves. So chunks placed side by side (a
    parallel import) hold the stock locks only for that UPDATE and the commit, not for the chunk's work.

    The plan still holds when every row still has what the chunk takes from it (after the channel's safety
    stock), and no product the chunk backordered has more free stock than the plan saw (a receipt committed
    meanwhile would not find these backorders): never oversold, never below safety stock, nothing left
    backordered beside free stock. Otherwise ``StockMoved``.
    """

    product_ids: list[int]
    location_ids: list[int]
    free_seen: dict[int, int]  # stock row -> on hand minus reserved, as planned against
    safety: dict[int, int]  # location -> units the channel keeps back
    need: dict[int, int] = field(default_factory=dict)  # stock row -> units the chunk reserves
    short: set[int] = field(default_factory=set)  # products the chunk backordered

    def reserve(self) -> None:
        locked = stock_locks.stock_items_lock(product_ids=self.product_ids, location_ids=self.location_ids)
        if not set(self.need) <= {item.pk for item in locked}:
            raise StockMoved("a stock row the chunk reserves from is gone")
        for item in locked:
            free = item.on_hand - item.reserved
            taken = self.need.get(item.pk, 0)
            if taken and taken > free - self.safety.get(item.location_id, 0):
                raise StockMoved(f"stock row {item.pk}: {taken} planned, {free} free now")
            if item.product_id in self.short and free > self.free_seen.get(item.pk, 0):
                raise StockMoved(f"stock row {item.pk}: {free} free now, backordered against less")
        stock_services.stock_reserve(quantities=self.need)


@dataclass
class _Fresh:
    """An order of the chunk being placed: its row, lines and route, before the bulk inserts."""

    order: Order
    lines: list[OrderLine]
    route: sourcing.Plan
    awaiting_payment: bool


def place_orders(*, channel, batch: Sequence[services.OrderInput], actor: str) -> list[Placement]:
    """Place ``batch`` (in its order) in one transaction; one ``Placement`` per input, in the same order.

    Never fails for one bad order: that order's ``error`` says why. An unexpected
    error (a bug, the database gone) rolls the whole chunk back and propagates.
    """
    for attempt in range(RACE_RETRIES):
        try:
            with transaction.atomic():
                return _place_chunk(channel=channel, batch=list(batch), actor=actor)[0]
        except IntegrityError:
            if attempt == RACE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def place_orders_reserving_last(
    *, channel, batch: Sequence[services.OrderInput], actor: str
) -> tuple[list[Placement], StockCheck]:
    """``place_orders`` without the stock locked while the chunk is planned and stored: the caller writes what
    else goes with the chunk, then calls ``reserve()`` of the ``StockCheck`` last, in the same transaction.

    No retries: ``StockMoved`` from ``reserve()`` or an ``IntegrityError`` (another transaction placed one
    of these external ids) leave the caller's transaction to roll back, and the chunk to ``place_orders``.
    Call it inside a transaction (``reserve()`` must run in the same one).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("place_orders_reserving_last must run inside a transaction")
    placements, check = _place_chunk(channel=channel, batch=list(batch), actor=actor, lock=False)
    return placements, check or StockCheck(product_ids=[], location_ids=[], free_seen={}, safety={})


def _place_chunk(
    *, channel, batch: list[services.OrderInput], actor: str, lock: bool = True
) -> tuple[list[Placement], StockCheck | None]:
    """The chunk placed; with ``lock=False`` its stock is read unlocked and not reserved: the ``StockCheck``
    reserves it (otherwise None)."""
    now = timezone.now()
    results = [Placement(data=data) for data in batch]
    fingerprints = [data.fingerprint() for data in batch]
    skus = {line.sku for data in batch for line in data.lines}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    placed_before = {
        o.external_id: o
        for o in find_each(Order, field="external_id", values=[d.external_id for d in batch], channel=channel)
    }

    todo: list[int] = []
    first_of: dict[str, int] = {}  # external id -> its position placed in this chunk
    twins: dict[int, int] = {}  # a duplicate later in the chunk -> the position it repeats
    for i, (data, fingerprint) in enumerate(zip(batch, fingerprints, strict=True)):
        known = placed_before.get(data.external_id)
        if known is not None or data.external_id in first_of:
            same = known.fingerprint if known is not None else fingerprints[first_of[data.external_id]]
            if same != fingerprint:
                results[i].error = services._conflict(channel=channel, external_id=data.external_id)
            elif known is not None:
                results[i].order = known
            else:
                twins[i] = first_of[data.external_id]
            continue
        errors = services._validate(data, products)
        if errors:
            results[i].error = InvalidInput(errors)
            continue
        first_of[data.external_id] = i
        todo.append(i)

    check = None
    if todo:
        fresh, check = _plan_and_build(
            channel=channel, batch=batch, fingerprints=fingerprints, todo=todo, products=products, now=now, lock=lock
        )
        for i, one in zip(todo, fresh, strict=True):
            results[i].order, results[i].created = one.order, True
        need = _store(fresh=fresh, actor=actor, now=now, reserve=check is None)
        if check is not None:
            check.need = need
            check.short = {line.product_id for f in fresh for line in f.lines if line.quantity_reserved < line.quantity}
    for i, j in twins.items():
        results[i].order = results[j].order
    return results, check


def _customers(batch: list[services.OrderInput], todo: list[int]) -> dict[str, Customer]:
    """``get_or_create`` by e-mail for the whole chunk: the first order with a new e-mail names the customer."""
    wanted: dict[str, services.CustomerInput] = {}
    for i in todo:
        wanted.setdefault(batch[i].customer.email.lower(), batch[i].customer)
    found = {c.email: c for c in Customer.objects.filter(email__in=list(wanted))}
    missing = [  # in e-mail order: chunks placed side by side wait on each other's new rows in one order
        Customer(email=email, name=c.name, phone=c.phone, kind=c.kind)
        for email, c in sorted(wanted.items())
        if email not in found
    ]
    if missing:
        Customer.objects.bulk_create(missing, ignore_conflicts=True)  # another import may create one meanwhile
        found.update({c.email: c for c in Customer.objects.filter(email__in=[m.email for m in missing])})
    return found


def _plan_and_build(
    *,
    channel,
    batch: list[services.OrderInput],
    fingerprints: list[str],
    todo: list[int],
    products: dict[str, Product],
    now,
    lock: bool,
) -> tuple[list[_Fresh], StockCheck | None]:
    """Source every order against the chunk's stock (locked, or with ``lock=False`` as read, and a
    ``StockCheck`` of what was read), in the chunk's order, and build its rows."""
    customers = _customers(batch, todo)
    locations = services._channel_locations(channel)
    product_ids = sorted({products[line.sku].pk for i in todo for line in batch[i].lines})
    location_ids = [loc.pk for loc in locations]
    if lock:
        stock = stock_locks.stock_items_lock(product_ids=product_ids, location_ids=location_ids)
    else:
        stock = stock_locks.stock_items_read(product_ids=product_ids, location_ids=location_ids)
    stock_of: dict[int, list[StockItem]] = defaultdict(list)
    for item in stock:
        stock_of[item.product_id].append(item)
    # The channel's safety stock and today's shipments are the same for the whole chunk; the chunk's own
    # new shipments count towards a location's daily capacity as they are planned.
    base = routing.context_for(channel=channel, address=batch[todo[0]].shipping_address, locations=locations)
    capped = [loc.pk for loc in locations if loc.daily_shipment_capacity is not None]
    opened: dict[int, int] = defaultdict(int)
    check = None
    if not lock:
        free_seen = {item.pk: item.on_hand - item.reserved for item in stock}  # before the plan takes any
        check = StockCheck(product_ids, location_ids, free_seen, safety=dict(base.safety_stock))

    fresh = []
    for i in todo:
        data = batch[i]
        demands = [
            sourcing.LineDemand(key=k, product_id=products[line.sku].pk, quantity=line.quantity)
            for k, line in enumerate(data.lines)
        ]
        today = {pk: base.shipments_today.get(pk, 0) + opened[pk] for pk in capped}
        destination = sourcing.Destination(
            country=data.shipping_address.country.upper(), postal_code=data.shipping_address.postal_code
        )
        context = replace(base, destination=destination, shipments_today=today)
        order_stock = [item for pid in dict.fromkeys(d.product_id for d in demands) for item in stock_of[pid]]
        route = sourcing.plan(demands=demands, locations=locations, stock=order_stock, context=context)
        backorder_policy.reject_unreservable(channel=channel, route=route)  # as place_order does
        for a in route.allocations:  # the next order plans against what is left
            a.stock_item.reserved += a.quantity
        for location_id in {a.stock_item.location_id for a in route.allocations}:
            opened[location_id] += 1

        customer = customers[data.customer.email.lower()]
        prices = services._line_prices(channel=channel, customer=customer, data=data, products=products)
        order = services._order_row(
            channel=channel, data=data, customer=customer, prices=prices, fingerprint=fingerprints[i], now=now
        )
        backorder_policy.uncharge_rejected(order=order, prices=prices, route=route)
        lines = services._line_rows(order=order, data=data, products=products, prices=prices, route=route)
        awaiting = services._awaits_payment(data=data, customer=customer)
        fresh.append(_Fresh(order=order, lines=lines, route=route, awaiting_payment=awaiting))
    return fresh, check


def _store(*, fresh: list[_Fresh], actor: str, now, reserve: bool = True) -> dict[int, int]:
    """The chunk's inserts and updates: one statement per table, plus one UPDATE per set of orders a hold
    check held (orders go in with the status they move to, as ``place_order`` stores them). Returns the
    units reserved per stock row; with ``reserve=False`` they are only counted (``StockCheck`` reserves)."""
    at = timezone.now()  # the moves' time (their received_at) and the routings'
    outcomes = []
    for f in fresh:
        to, data = services._outcome_unchecked(lines=f.lines, route=f.route, awaiting_payment=f.awaiting_payment)
        outcomes.append((to, data, services._move_new(f.order, to, at=at)))
    insert_many(Order, [f.order for f in fresh])
    insert_many(OrderLine, [line for f in fresh for line in f.lines])

    reserved: dict[int, int] = defaultdict(int)
    shipments: list[Shipment] = []
    shipment_lines: list[ShipmentLine] = []
    for f in fresh:
        for a in f.route.allocations:
            reserved[a.stock_item.pk] += a.quantity
        new, rows = services._shipment_rows(
            order=f.order, lines=f.lines, allocations=f.route.allocations, by_location={}
        )
        shipments += new
        shipment_lines += rows
    if reserve:
        stock_services.stock_reserve(quantities=reserved)
    insert_many(Shipment, shipments)
    insert_many(ShipmentLine, shipment_lines)

    events = []
    for f in fresh:
        events.append(
            lifecycle.event(f.order, "placed", actor=actor, at=now, data={"external_id": f.order.external_id})
        )
        events.append(
            routing.routing_record(order=f.order, lines=f.lines, route=f.route, actor=actor, save=False, at=at)
        )
    finals: list[tuple[Order, str, dict | None, object]] = []
    held: dict[tuple, list[int]] = {}
    for f, (to, data, as_placed) in zip(fresh, outcomes, strict=True):  # the checks see the order stored
        checked = services._outcome_checked(
            order=f.order, lines=f.lines, unchecked=(to, data), awaiting_payment=f.awaiting_payment
        )
        when = at if services._STAMPS.intersection(as_placed) else None
        if checked[0] != to:  # a check holds it: undo the move made before the insert, make this one
            (to, data), (when, changed) = checked, services._hold_instead(f.order, as_placed=as_placed, held=checked)
            held.setdefault(tuple((name, getattr(f.order, name)) for name in sorted(changed)), []).append(f.order.pk)
        finals.append((f.order, to, data, when))
    for changes, ids in held.items():
        Order.objects.filter(pk__in=ids).update(**dict(changes))
    undated = timezone.now()  # a move no stamp dates comes after what the checks recorded, as in place_order
    events += [lifecycle.event(o, to, actor=actor, data=data, at=when or undated) for o, to, data, when in finals]
    _record_events(events)
    return dict(reserved)


def _record_events(events: list[OrderEvent]) -> None:
    """One COPY for the chunk's events; the outbox sends them after commit (one task per commit)."""
    lifecycle.record_many(events)
