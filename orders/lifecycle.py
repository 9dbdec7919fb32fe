"""The order state machine: the only code that assigns ``Order.status``.

``placed -> received -> picked -> packed -> shipped -> delivered``, plus
``on_hold``, ``backordered`` and ``cancelled`` (DESIGN.md "Order lifecycle").
Fulfilment states may be skipped forward (a 3PL reports "shipped" without us
seeing a pick) but never go back, except to ``received`` when backordered
units are allocated to an order whose other shipments already moved on.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .errors import InvalidTransition
from .models import Order, OrderEvent
from .models import OrderStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PLACED: frozenset({S.RECEIVED, S.ON_HOLD, S.BACKORDERED, S.CANCELLED}),
    S.RECEIVED: frozenset({S.PICKED, S.PACKED, S.SHIPPED, S.DELIVERED, S.ON_HOLD, S.BACKORDERED, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.RECEIVED, S.BACKORDERED, S.CANCELLED}),
    S.BACKORDERED: frozenset({S.RECEIVED, S.PICKED, S.PACKED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.PICKED: frozenset({S.RECEIVED, S.PACKED, S.SHIPPED, S.DELIVERED, S.BACKORDERED, S.CANCELLED}),
    S.PACKED: frozenset({S.RECEIVED, S.PICKED, S.SHIPPED, S.DELIVERED, S.BACKORDERED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Timestamps a transition stamps on the order the first time it happens.
_STAMPS = {S.RECEIVED: "received_at", S.CANCELLED: "cancelled_at", S.DELIVERED: "delivered_at"}


def can_move(order: Order, to: str) -> bool:
    return to in TRANSITIONS[order.status]


def apply(
    order: Order,
    to: str,
    *,
    actor: str,
    event_type: str | None = None,
    data: dict[str, Any] | None = None,
    at=None,
) -> OrderEvent:
    """Move ``order`` to ``to``, save it, and write the event; refuse an illegal move.

    Call inside the service's transaction with the order row locked.
    """
    if to not in TRANSITIONS[order.status]:
        raise InvalidTransition(
            f"Order {order.number} cannot go from {order.status} to {to}.",
            extra={"from": order.status, "to": to},
        )
    at = at or timezone.now()
    fields = ["status", "updated_at"]
    order.status = to
    stamp = _STAMPS.get(to)
    if stamp and getattr(order, stamp) is None:
        setattr(order, stamp, at)
        fields.append(stamp)
    if to == S.ON_HOLD:
        fields.append("hold_reason")
    elif order.hold_reason:
        order.hold_reason = ""
        fields.append("hold_reason")
    order.save(update_fields=fields)
    return record(order, event_type or to, actor=actor, data=data, at=at)


def record(order: Order, event_type: str, *, actor: str, data: dict[str, Any] | None = None, at=None) -> OrderEvent:
    """Write an event that does not change the status (a note, a reservation, a routing)."""
    return OrderEvent.objects.create(
        order=order, type=event_type, at=at or timezone.now(), actor=actor, data=data or {}
    )
