"""The pick and pack stations: one scan at a time, answered at once.

Every scan is stored (``StationScan``). A scan of an item the shipment does
not hold, or one more than it needs, is refused on the spot and kept as a
caught mis-pick (order accuracy). When the pick station has seen every unit
the shipment is picked; the pack station then asks for weight and size.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from inventory.models import Product

from . import fulfilment, picking
from .errors import InvalidTransition
from .fulfilment import lock_shipment
from .models import OrderStatus, PickList, Shipment, ShipmentStatus, StationScan, pk_from_number

S = StationScan.Station
Outcome = StationScan.Outcome
# The status a shipment must be in for each station to scan it.
STATION_STATUS = {S.PICK: ShipmentStatus.PICKING, S.PACK: ShipmentStatus.PICKED}


class PackIncomplete(InvalidTransition):
    code = "pack_incomplete"


@dataclass
class ScanResult:
    outcome: str
    message: str
    sku: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    wanted: dict[str, int] = field(default_factory=dict)
    status: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.OK

    @property
    def complete(self) -> bool:
        return bool(self.wanted) and self.counts == self.wanted

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "outcome": self.outcome,
            "message": self.message,
            "sku": self.sku,
            "counts": self.counts,
            "wanted": self.wanted,
            "scanned": sum(self.counts.values()),
            "total": sum(self.wanted.values()),
            "complete": self.complete,
            "status": self.status,
        }


def find_shipment(code: str) -> Shipment | None:
    """A scanned shipment number (``SH-000042``) or a typed id."""
    code = code.strip()
    pk = pk_from_number(Shipment.NUMBER_PREFIX, code) or (int(code) if code.isdigit() else None)
    return Shipment.objects.filter(pk=pk).first() if pk else None


def find_pick_list(code: str) -> PickList | None:
    pk = pk_from_number(PickList.NUMBER_PREFIX, code.strip())
    return PickList.objects.filter(pk=pk).first() if pk else None


def resolve_code(code: str) -> str | None:
    """The SKU a scanned code stands for: a product barcode, or the SKU itself."""
    code = code.strip()
    if not code:
        return None
    product = Product.objects.filter(Q(barcode=code) | Q(sku__iexact=code)).order_by("pk").first()
    return product.sku if product else None


def scanned_counts(shipment: Shipment, station: str) -> dict[str, int]:
    rows = (
        StationScan.objects.filter(shipment=shipment, station=station, outcome=Outcome.OK, voided=False)
        .values("sku")
        .annotate(n=Count("id"))
    )
    return {r["sku"]: r["n"] for r in rows}


def progress(shipment: Shipment, station: str) -> ScanResult:
    return ScanResult(
        outcome=Outcome.OK,
        message="",
        counts=scanned_counts(shipment, station),
        wanted=picking.expected_quantities(shipment),
        status=shipment.status,
    )


@transaction.atomic
def station_open(*, shipment: Shipment, station: str, actor: str) -> Shipment:
    """Bring a shipment to a station; a pending shipment picked on its own starts ``picking``."""
    order, shipment = lock_shipment(shipment)
    if station == S.PICK and shipment.status == ShipmentStatus.PENDING:
        if order.status in (OrderStatus.PLACED, OrderStatus.ON_HOLD, OrderStatus.CANCELLED):
            raise InvalidTransition(f"Order {order.number} is {order.status}; its shipment may not be picked yet.")
        shipment = picking.shipment_start_picking(shipment=shipment, actor=actor)
    if shipment.status != STATION_STATUS[station]:
        raise InvalidTransition(
            f"{shipment.number} is {shipment.status}; the {station} station takes {STATION_STATUS[station]} ones.",
            extra={"from": shipment.status},
        )
    return shipment


@transaction.atomic
def scan_record(*, shipment: Shipment, station: str, code: str, actor: str) -> ScanResult:
    """Check one scanned unit against the shipment; record it either way; finish the pick when complete."""
    _, shipment = lock_shipment(shipment)
    if shipment.status != STATION_STATUS[station]:
        raise InvalidTransition(
            f"{shipment.number} is {shipment.status}; the {station} station takes {STATION_STATUS[station]} ones."
        )
    wanted = picking.expected_quantities(shipment)
    counts = Counter(scanned_counts(shipment, station))
    sku = resolve_code(code)
    if sku is None:
        outcome, message = Outcome.UNKNOWN, f"Unknown code {code!r}: not a product we know."
    elif sku not in wanted:
        outcome, message = Outcome.WRONG_ITEM, f"Wrong item: {sku} is not in {shipment.number}. Put it back."
    elif counts[sku] >= wanted[sku]:
        outcome, message = Outcome.TOO_MANY, f"Too many {sku}: {wanted[sku]} needed, all already scanned. Put it back."
    else:
        outcome = Outcome.OK
        counts[sku] += 1
        message = f"{sku} {counts[sku]} of {wanted[sku]}"
    StationScan.objects.create(
        shipment=shipment,
        station=station,
        code=code[:100],
        sku=sku or "",
        outcome=outcome,
        actor=actor,
        at=timezone.now(),
    )
    result = ScanResult(outcome=outcome, message=message, sku=sku or "", counts=dict(counts), wanted=wanted)
    if result.ok and result.complete and station == S.PICK:
        picking.shipment_pick(shipment=shipment, lines=result.counts, actor=actor)
        result.message += f" — {shipment.number} picked."
    result.status = Shipment.objects.values_list("status", flat=True).get(pk=shipment.pk)
    return result


@transaction.atomic
def scans_reset(*, shipment: Shipment, station: str, actor: str) -> int:
    """Start counting again (a dropped tote): accepted scans are voided, refusals stay on record."""
    _, shipment = lock_shipment(shipment)
    return StationScan.objects.filter(shipment=shipment, station=station, outcome=Outcome.OK, voided=False).update(
        voided=True
    )


@transaction.atomic
def pack_complete(
    *, shipment: Shipment, weight_grams: int, length_mm: int, width_mm: int, height_mm: int, actor: str
) -> Shipment:
    """Every unit scanned at the pack station, then the parcel's weight and size: ``packed``."""
    _, shipment = lock_shipment(shipment)
    state = progress(shipment, S.PACK)
    if not state.complete:
        missing = {sku: n - state.counts.get(sku, 0) for sku, n in state.wanted.items() if state.counts.get(sku, 0) < n}
        raise PackIncomplete(f"Scan every item before packing {shipment.number}; missing {missing}.")
    return fulfilment.shipment_pack(
        shipment=shipment,
        weight_grams=weight_grams,
        length_mm=length_mm,
        width_mm=width_mm,
        height_mm=height_mm,
        actor=actor,
    )
