"""Waves and picks: which shipments the floor picks together, and checking what was picked.

A pick list takes the pending own-warehouse shipments of one location, oldest
promise first, gives each a tote, and sums their lines per SKU in bin order
(one walk through the aisles). A pick is accepted only when the scanned
quantities match the shipment exactly; otherwise nothing changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from django.db import transaction
from django.db.models import Case, F, Max, Sum, Value, When

from inventory.errors import ErrorItem, InvalidInput
from inventory.models import Location

from . import shipment_lifecycle
from .fulfilment import ensure_released, lock_shipment, order_sync_status
from .fulfilment_errors import NothingToPick, PickMismatch
from .models import OrderStatus, PickList, Shipment, ShipmentLine, ShipmentStatus

MAX_WAVE = 200
# Orders whose shipments must not reach the floor yet (a person has to look first).
_NOT_PICKABLE = (OrderStatus.PLACED, OrderStatus.ON_HOLD, OrderStatus.CANCELLED)


def _bin_key(line: dict) -> tuple:
    return (line["bin"] == "", line["bin"], line["sku"])


def pick_queue(*, location: Location):
    """Pending own-warehouse shipments of a location, oldest promise first (then oldest order)."""
    return (
        Shipment.objects.filter(location=location, fulfillment=Location.Kind.OWN, status=ShipmentStatus.PENDING)
        .exclude(order__status__in=_NOT_PICKABLE)
        .order_by(F("order__promised_delivery_date").asc(nulls_last=True), "order__placed_at", "id")
    )


def pick_list_lines(*, shipment_ids: list[int]) -> list[dict]:
    """Lines of these shipments summed per SKU, sorted by bin (empty bins last). One query."""
    rows = (
        ShipmentLine.objects.filter(shipment_id__in=shipment_ids)
        .values(sku=F("order_line__sku"), bin=F("stock_item__bin"))
        .annotate(quantity=Sum("quantity"), name=Max("order_line__name"))
        .order_by()
    )
    lines = [{"sku": r["sku"], "name": r["name"], "bin": r["bin"] or "", "quantity": r["quantity"]} for r in rows]
    return sorted(lines, key=_bin_key)


@transaction.atomic
def pick_list_create(
    *, location_code: str, max_shipments: int, actor: str, shipment_ids: list[int] | None = None
) -> PickList:
    """A wave of up to ``max_shipments``; those shipments move to ``picking``, each with a tote.

    ``shipment_ids`` limits the wave to these shipments (staff chose them in the admin).
    """
    location = Location.objects.filter(code=location_code).first()
    if location is None:
        raise InvalidInput([ErrorItem("unknown_location", f"No location with code {location_code!r}.", "location")])
    if location.kind != Location.Kind.OWN:
        raise InvalidInput(
            [ErrorItem("not_own_location", f"{location.code} is a partner location; it picks its own.", "location")]
        )
    if not 1 <= max_shipments <= MAX_WAVE:
        raise InvalidInput([ErrorItem("invalid_max", f"max_shipments must be 1 to {MAX_WAVE}.", "max_shipments")])
    queue = pick_queue(location=location)
    if shipment_ids is not None:
        queue = queue.filter(pk__in=shipment_ids)
    chosen = list(queue.values_list("pk", flat=True)[:max_shipments])
    # Lock in primary-key order, then keep only those still pending (another wave may have taken some).
    locked = {
        s.pk: s
        for s in Shipment.objects.select_for_update(of=("self",))
        .filter(pk__in=chosen, status=ShipmentStatus.PENDING)
        .order_by("pk")
    }
    shipments = [locked[pk] for pk in chosen if pk in locked]
    if not shipments:
        raise NothingToPick(f"No pending shipments to pick at {location.code}.")
    pick_list = PickList.objects.create(
        location=location, created_by=actor, lines=pick_list_lines(shipment_ids=[s.pk for s in shipments])
    )
    # A handful of statements for the whole wave, whatever its size: one UPDATE for the totes, one for the
    # status, one INSERT for the events.
    totes = {}
    for i, shipment in enumerate(shipments, start=1):
        shipment.pick_list, shipment.tote = pick_list, f"T{i:02d}"
        totes[shipment.pk] = shipment.tote
    Shipment.objects.filter(pk__in=list(totes)).update(
        pick_list=pick_list, tote=Case(*[When(pk=pk, then=Value(tote)) for pk, tote in totes.items()])
    )
    shipment_lifecycle.apply_many(
        [(s, {"pick_list": pick_list.number, "tote": s.tote}) for s in shipments], ShipmentStatus.PICKING, actor=actor
    )
    return pick_list


def expected_quantities(shipment: Shipment) -> dict[str, int]:
    """What the shipment must contain, per SKU."""
    wanted: dict[str, int] = defaultdict(int)
    for sku, qty in ShipmentLine.objects.filter(shipment=shipment).values_list("order_line__sku", "quantity"):
        wanted[sku] += qty
    return dict(wanted)


def compare(*, wanted: Mapping[str, int], got: Mapping[str, int]) -> tuple[list[dict], list[dict]]:
    """What is short and what is extra when ``got`` was scanned against ``wanted``."""
    short = [
        {"sku": sku, "expected": qty, "scanned": got.get(sku, 0)}
        for sku, qty in sorted(wanted.items())
        if got.get(sku, 0) < qty
    ]
    extra = [
        {"sku": sku, "expected": wanted.get(sku, 0), "scanned": qty}
        for sku, qty in sorted(got.items())
        if qty > wanted.get(sku, 0)
    ]
    return short, extra


@transaction.atomic
def shipment_pick(*, shipment: Shipment, lines: Mapping[str, int], actor: str) -> Shipment:
    """Accept the pick when the scanned quantities match exactly; else ``PickMismatch`` and no change."""
    order, shipment = lock_shipment(shipment)
    shipment_lifecycle.ensure(shipment, ShipmentStatus.PICKED)
    ensure_released(order, shipment)
    got = {sku: qty for sku, qty in lines.items() if qty}
    short, extra = compare(wanted=expected_quantities(shipment), got=got)
    if short or extra:
        words = [f"short {s['sku']} ({s['scanned']} of {s['expected']})" for s in short]
        words += [f"extra {e['sku']} ({e['scanned']} for {e['expected']})" for e in extra]
        raise PickMismatch(
            f"The pick does not match {shipment.number}: {', '.join(words)}.",
            attr="lines",
            extra={"short": short, "extra": extra},
        )
    shipment_lifecycle.apply(shipment, ShipmentStatus.PICKED, actor=actor, data={"lines": got})
    order_sync_status(order=order, actor=actor)
    return shipment


@transaction.atomic
def shipment_start_picking(*, shipment: Shipment, actor: str) -> Shipment:
    """A single shipment picked on its own (no wave): ``pending -> picking``."""
    _, shipment = lock_shipment(shipment)
    if shipment.status == ShipmentStatus.PENDING:
        shipment_lifecycle.apply(shipment, ShipmentStatus.PICKING, actor=actor, data={"pick_list": None})
    return shipment
