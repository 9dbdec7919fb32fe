"""The purchase-order state machine: the only code that assigns ``PurchaseOrder.status``.

``draft -> sent -> partially_received -> received``, or ``cancelled`` before
everything came in. Each move writes a ``PurchaseOrderEvent`` (the PO's audit
trail); receipts that do not change the status are recorded with ``record``.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .errors import DomainError
from .models import PurchaseOrder, PurchaseOrderEvent
from .models import PurchaseOrderStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SENT, S.CANCELLED}),
    S.SENT: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.CANCELLED}),
    S.PARTIALLY_RECEIVED: frozenset({S.RECEIVED, S.CANCELLED}),
    S.RECEIVED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Timestamps a transition stamps on the purchase order.
_STAMPS = {S.SENT: "sent_at", S.RECEIVED: "received_at", S.CANCELLED: "cancelled_at"}


class InvalidTransition(DomainError):
    code = "invalid_transition"


def can_move(po: PurchaseOrder, to: str) -> bool:
    return to in TRANSITIONS[po.status]


def ensure(po: PurchaseOrder, to: str) -> None:
    if not can_move(po, to):
        raise InvalidTransition(
            f"Purchase order {po.number} cannot go from {po.status} to {to}.", extra={"from": po.status, "to": to}
        )


def apply(
    po: PurchaseOrder, to: str, *, actor: str, data: dict[str, Any] | None = None, at=None, fields=()
) -> PurchaseOrderEvent:
    """Move ``po`` to ``to``, save it (and any extra ``fields`` the caller set), write the event."""
    ensure(po, to)
    at = at or timezone.now()
    po.status = to
    update = ["status", *fields]
    stamp = _STAMPS.get(to)
    if stamp and getattr(po, stamp) is None:
        setattr(po, stamp, at)
        update.append(stamp)
    po.save(update_fields=update)
    return record(po, to, actor=actor, data=data, at=at)


def record(po: PurchaseOrder, event_type: str, *, actor: str, data: dict[str, Any] | None = None, at=None):
    return PurchaseOrderEvent.objects.create(
        purchase_order=po, type=event_type, at=at or timezone.now(), actor=actor, data=data or {}
    )
