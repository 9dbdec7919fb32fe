"""Every write to stock. Each public function is one transaction (or runs inside the caller's).

Reservation helpers (``stock_reserve``, ``stock_release``, ``stock_ship``) take
rows the caller has already locked with ``inventory.locks`` and write each
batch in one statement, so placing an order costs the same number of queries
whatever its line count.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When

from .errors import ErrorItem, InsufficientStock, InvalidInput
from .models import Location, Product, StockItem, StockMovement
from .signals import stock_arrived


def _delta_case(deltas: Mapping[int, int]) -> Case:
    return Case(
        *[When(pk=pk, then=Value(qty)) for pk, qty in deltas.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def stock_reserve(*, quantities: Mapping[int, int]) -> None:
    """Add to ``reserved`` on locked stock rows: {stock_item_id: quantity}. One UPDATE."""
    quantities = {pk: q for pk, q in quantities.items() if q}
    if not quantities:
        return
    StockItem.objects.filter(pk__in=list(quantities)).update(reserved=F("reserved") + _delta_case(quantities))


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


@transaction.atomic
def location_save(*, location: Location, fields: dict, channels=None) -> Location:
    """Create or update a location and, when given, the channels it serves."""
    for name, value in fields.items():
        setattr(location, name, value)
    location.save()
    if channels is not None:
        location.channels.set(channels)
    return location
