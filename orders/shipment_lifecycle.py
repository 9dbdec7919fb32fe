"""The shipment state machine: the only code that assigns ``Shipment.status``.

``pending -> picking -> picked -> packed -> shipped -> in_transit -> delivered``,
plus ``exception`` and ``cancelled``. Each move writes an event on the order's
timeline (``shipment.<status>``); the outbox (``orders.outbox``) sends what
follows after commit. A partner (3PL, dropship) ships straight from
``pending``: we never see its pick and pack.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from . import lifecycle
from .errors import InvalidTransition
from .models import OrderEvent, Shipment
from .models import ShipmentStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.PICKING, S.PICKED, S.SHIPPED, S.CANCELLED}),
    S.PICKING: frozenset({S.PICKED, S.PENDING, S.CANCELLED}),
    S.PICKED: frozenset({S.PACKED, S.CANCELLED}),
    S.PACKED: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.IN_TRANSIT, S.DELIVERED, S.EXCEPTION}),
    S.IN_TRANSIT: frozenset({S.DELIVERED, S.EXCEPTION}),
    S.EXCEPTION: frozenset({S.IN_TRANSIT, S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Timestamps a transition stamps on the shipment the first time it happens.
_STAMPS = {S.PICKED: "picked_at", S.PACKED: "packed_at", S.SHIPPED: "shipped_at", S.DELIVERED: "delivered_at"}


def can_move(shipment: Shipment, to: str) -> bool:
    return to in TRANSITIONS[shipment.status]


def ensure(shipment: Shipment, to: str) -> None:
    """Refuse an illegal move before any work is done (``409 invalid_transition``)."""
    if to not in TRANSITIONS[shipment.status]:
        raise InvalidTransition(
            f"Shipment {shipment.number} cannot go from {shipment.status} to {to}.",
            extra={"from": shipment.status, "to": to},
        )


def apply(shipment: Shipment, to: str, *, actor: str, data: dict[str, Any] | None = None, at=None) -> OrderEvent:
    """Move ``shipment`` to ``to``, save it, and write the event. Call with the row locked."""
    at = at or timezone.now()
    shipment.save(update_fields=_step(shipment, to, at=at))
    event = _event(shipment, to, actor=actor, data=data, at=at)
    event.save()
    return event


def apply_many(moves: list[tuple[Shipment, dict[str, Any] | None]], to: str, *, actor: str) -> list[OrderEvent]:
    """``apply`` for a batch (a pick wave): one UPDATE per set of shipments changing the same fields to the
    same values, the events in one INSERT (the outbox sends them after commit). Call with the rows locked."""
    at = timezone.now()
    groups: dict[tuple, list[int]] = {}
    events = []
    for shipment, data in moves:
        fields = _step(shipment, to, at=at)
        groups.setdefault(tuple((f, getattr(shipment, f)) for f in fields), []).append(shipment.pk)
        events.append(_event(shipment, to, actor=actor, data=data, at=at))
    for changes, ids in groups.items():
        Shipment.objects.filter(pk__in=ids).update(**dict(changes))
    return lifecycle.record_many(events) if events else events


def _step(shipment: Shipment, to: str, *, at) -> list[str]:
    """Check the move and make it on the instance; the fields it changed."""
    ensure(shipment, to)
    shipment.status = to
    fields = ["status"]
    stamp = _STAMPS.get(to)
    if stamp and getattr(shipment, stamp) is None:
        setattr(shipment, stamp, at)
        fields.append(stamp)
    return fields


def _event(shipment: Shipment, to: str, *, actor: str, data: dict[str, Any] | None, at) -> OrderEvent:
    return OrderEvent(
        order_id=shipment.order_id,
        type=f"shipment.{to}",
        at=at,
        actor=actor,
        data={"shipment": shipment.number, "shipment_id": shipment.pk, **(data or {})},
    )
