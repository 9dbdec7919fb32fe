"""Every write to stock. Each public function is one transaction (or runs inside the caller's).

Reservation helpers (``stock_reserve``, ``stock_release``, ``stock_ship``) take
rows the caller has already locked with ``inventory.locks`` and write each
batch in one statement, so placing an order costs the same number of queries
whatever its line count.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.db import router, transaction
from django.db.models import Case, F, IntegerField, Value, When

from .bulk import Batch
from .errors import ErrorItem, InsufficientStock, InvalidInput
from .models import Location, Product, StockItem, StockMovement
from .signals import stock_arrived


def _delta_case(deltas: Mapping[int, int]) -> Case:
    return Case(
        *[When(pk=pk, then=Value(qty)) for pk, qty in deltas.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def stock_reserve(*, quantities: Mapping[int, int], batch: Batch | None = None) -> None:
    """Add to ``reserved`` on locked stock rows: {stock_item_id: quantity}. One UPDATE, sent with ``batch``
    when given (on PostgreSQL; elsewhere it runs at once)."""
    quantities = {pk: q for pk, q in quantities.items() if q}
    if not quantities:
        return
    connection = transaction.get_connection(router.db_for_write(StockItem))
    if connection.vendor != "postgresql":
        StockItem.objects.filter(pk__in=list(quantities)).update(reserved=F("reserved") + _delta_case(quantities))
        return
    # The same UPDATE as the ORM's (the table's checks still refuse reserved above on_hand or below 0),
    # joined to the quantities as two arrays: one statement text whatever the count, composed once.
    params = [list(quantities), list(quantities.values())]
    if batch is not None:
        batch.execute(_reserve_sql(connection), params)
        return
    with connection.cursor() as cursor:
        cursor.execute(_reserve_sql(connection), params)


_RESERVE_SQL: dict[str, str] = {}


def _reserve_sql(connection) -> str:
    sql = _RESERVE_SQL.get(connection.alias)
    if sql is None:
        quote, meta = connection.ops.quote_name, StockItem._meta
        table, pk, reserved = quote(meta.db_table), quote(meta.pk.column), quote(meta.get_field("reserved").column)
        sql = _RESERVE_SQL[connection.alias] = (
            f"UPDATE {table} SET {reserved} = {table}.{reserved} + v.q "
            f"FROM unnest(%s::bigint[], %s::integer[]) AS v(id, q) WHERE {table}.{pk} = v.id"
        )
    return sql


def stock_release(*, quantities: Mapping[int, int]) -> None:
    """Give reserved units back: {stock_item_id: quantity}. One UPDATE."""
    quantities = {pk: q for pk, q in quantities.items() if q}
    if not quantities:
        return
    StockItem.objects.filter(pk__in=list(quantities)).update(reserved=F("reserved") - _delta_case(quantities))


def stock_ship(*, quantities: Mapping[int, int], reference: str, actor: str) -> None:
    """Reserved units leave the building: ``on_hand`` and ``reserved`` fall together, with movements."""
    quantities = {pk: q for pk, q in quantities.items() if q}
    if not quantities:
        return
    case = _delta_case(quantities)
    StockItem.objects.filter(pk__in=list(quantities)).update(on_hand=F("on_hand") - case, reserved=F("reserved") - case)
    StockMovement.objects.bulk_create(
        StockMovement(stock_item_id=pk, kind=StockMovement.Kind.SHIPMENT, quantity=-q, reference=reference, actor=actor)
        for pk, q in quantities.items()
    )


def _stock_item_for_update(*, product: Product, location: Location) -> StockItem:
    item, _ = StockItem.objects.get_or_create(product=product, location=location)
    return StockItem.objects.select_for_update().get(pk=item.pk)


def _record(item: StockItem, *, delta: int, kind: str, reason: str, reference: str, actor: str) -> StockMovement:
    if item.on_hand + delta < item.reserved:
        raise InsufficientStock(
            f"{item.product.sku} at {item.location.code}: on hand {item.on_hand}, reserved "
            f"{item.reserved}; a change of {delta:+d} would leave less on hand than is reserved.",
            code="below_reserved",
            attr="delta",
        )
    StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + delta)
    item.refresh_from_db(fields=["on_hand", "reserved"])
    movement = StockMovement.objects.create(
        stock_item=item, kind=kind, quantity=delta, reason=reason, reference=reference, actor=actor
    )
    if delta > 0:
        product_id, location_id = item.product_id, item.location_id
        transaction.on_commit(
            lambda: stock_arrived.send(sender=StockItem, product_ids=[product_id], location_id=location_id)
        )
    return movement


@transaction.atomic
def stock_adjust(
    *, sku: str, location_code: str, delta: int, reason: str, actor: str, kind: str = "adjustment"
) -> StockMovement:
    """Change ``on_hand`` by ``delta`` with a ledger row; never below what is reserved."""
    errors = []
    product = Product.objects.filter(sku=sku).first()
    location = Location.objects.filter(code=location_code).first()
    if product is None:
        errors.append(ErrorItem("unknown_sku", f"No product with SKU {sku!r}.", "sku"))
    if location is None:
        errors.append(ErrorItem("unknown_location", f"No location with code {location_code!r}.", "location"))
    if delta == 0:
        errors.append(ErrorItem("zero_delta", "An adjustment must change the quantity.", "delta"))
    if errors:
        raise InvalidInput(errors)
    item = _stock_item_for_update(product=product, location=location)
    return _record(item, delta=delta, kind=kind, reason=reason, reference=f"adjustment:{actor}", actor=actor)


@transaction.atomic
def stock_receive(
    *, product: Product, location: Location, quantity: int, reference: str, actor: str, reason: str = ""
) -> StockMovement:
    """Goods in (purchase order receipt, opening stock): a receipt movement."""
    item = _stock_item_for_update(product=product, location=location)
    return _record(
        item, delta=quantity, kind=StockMovement.Kind.RECEIPT, reason=reason, reference=reference, actor=actor
    )


def _lookup(sku: str, location_codes: dict[str, str]) -> tuple[Product, dict[str, Location]]:
    """Resolve a SKU and named location codes, or raise one ``InvalidInput`` naming every miss."""
    errors = []
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        errors.append(ErrorItem("unknown_sku", f"No product with SKU {sku!r}.", "sku"))
    found = {loc.code: loc for loc in Location.objects.filter(code__in=list(location_codes.values()))}
    locations = {}
    for attr, code in location_codes.items():
        if code not in found:
            errors.append(ErrorItem("unknown_location", f"No location with code {code!r}.", attr))
        else:
            locations[attr] = found[code]
    if errors:
        raise InvalidInput(errors)
    return product, locations


@transaction.atomic
def stock_transfer(
    *, sku: str, from_location: str, to_location: str, quantity: int, reason: str, actor: str
) -> tuple[StockMovement, StockMovement]:
    """Move units between two locations: a pair of ``transfer`` movements in one transaction.

    Refused (409 ``below_reserved``) when the source would keep less on hand
    than it has reserved. Both rows are locked in primary-key order.
    """
    product, locations = _lookup(sku, {"from_location": from_location, "to_location": to_location})
    errors = []
    if from_location == to_location:
        errors.append(ErrorItem("same_location", "A transfer needs two different locations.", "to_location"))
    if quantity <= 0:
        errors.append(ErrorItem("invalid_quantity", "quantity must be positive.", "quantity"))
    if errors:
        raise InvalidInput(errors)
    source_loc, target_loc = locations["from_location"], locations["to_location"]
    for loc in (source_loc, target_loc):
        StockItem.objects.get_or_create(product=product, location=loc)
    rows = {
        item.location_id: item
        for item in StockItem.objects.select_for_update()
        .select_related("product", "location")
        .filter(product=product, location__in=[source_loc, target_loc])
        .order_by("pk")
    }
    source, target = rows[source_loc.pk], rows[target_loc.pk]
    reference = f"transfer:{source_loc.code}>{target_loc.code}:{uuid.uuid4().hex[:10]}"
    kind = StockMovement.Kind.TRANSFER
    out = _record(source, delta=-quantity, kind=kind, reason=reason, reference=reference, actor=actor)
    into = _record(target, delta=quantity, kind=kind, reason=reason, reference=reference, actor=actor)
    return out, into


@transaction.atomic
def stock_count(*, sku: str, location_code: str, counted: int, reason: str, actor: str) -> StockMovement:
    """A cycle count: the difference between counted and ``on_hand`` becomes a ``count`` movement.

    A count that matches still writes a movement of 0 (proof the shelf was
    counted). A count below what is reserved is refused (409): release or
    re-route those reservations first.
    """
    product, locations = _lookup(sku, {"location": location_code})
    if counted < 0:
        raise InvalidInput([ErrorItem("invalid_quantity", "counted must not be negative.", "counted")])
    item = _stock_item_for_update(product=product, location=locations["location"])
    item = StockItem.objects.select_related("product", "location").get(pk=item.pk)
    delta = counted - item.on_hand
    if counted < item.reserved:
        raise InsufficientStock(
            f"{sku} at {location_code}: counted {counted} but {item.reserved} are reserved for orders; "
            "release or re-route those reservations before recording the count.",
            code="below_reserved",
            attr="counted",
        )
    if delta == 0:
        return StockMovement.objects.create(
            stock_item=item,
            kind=StockMovement.Kind.COUNT,
            quantity=0,
            reason=reason,
            reference=f"count:{actor}",
            actor=actor,
        )
    return _record(
        item, delta=delta, kind=StockMovement.Kind.COUNT, reason=reason, reference=f"count:{actor}", actor=actor
    )


@transaction.atomic
def location_save(*, location: Location, fields: dict, channels=None) -> Location:
    """Create or update a location and, when given, the channels it serves."""
    for name, value in fields.items():
        setattr(location, name, value)
    location.save()
    if channels is not None:
        location.channels.set(channels)
    return location
