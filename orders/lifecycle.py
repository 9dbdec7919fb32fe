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

from inventory.bulk import Batch, insert_many, unsaved

from . import outbox
from .errors import InvalidTransition
from .models import Order, OrderEvent
from .models import OrderStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PLACED: frozenset({S.RECEIVED, S.ON_HOLD, S.BACKORDERED, S.CANCELLED}),
    S.RECEIVED: frozenset({S.PICKED, S.PACKED, S.SHIPPED, S.DELIVERED, S.ON_HOLD, S.BACKORDERED, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.RECEIVED, S.BACKORDERED, S.CANCELLED}),
    S.BACKORDERED: frozenset({S.RECEIVED, S.PICKED, S.PACKED, S.SHIPPED, S.DELIVERED, S.ON_HOLD, S.CANCELLED}),
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
    return record_many([move(order, to, actor=actor, event_type=event_type, data=data, at=at)])[0]


def move(
    order: Order,
    to: str,
    *,
    actor: str,
    event_type: str | None = None,
    data: dict[str, Any] | None = None,
    at=None,
) -> OrderEvent:
    """``apply`` without writing the event: it is returned unsaved, for ``record_many`` with others."""
    at = at or timezone.now()
    order.save(update_fields=_step(order, to, at=at))
    return event(order, event_type or to, actor=actor, data=data, at=at)


def _step(order: Order, to: str, *, at) -> list[str]:
    """Check the move and make it on the instance; the fields it changed."""
    if to not in TRANSITIONS[order.status]:
        raise InvalidTransition(
            f"Order {order.number} cannot go from {order.status} to {to}.",
            extra={"from": order.status, "to": to},
        )
    fields = ["status", "updated_at"]
    order.status, order.updated_at = to, at
    stamp = _STAMPS.get(to)
    if stamp and getattr(order, stamp) is None:
        setattr(order, stamp, at)
        fields.append(stamp)
    if to == S.ON_HOLD:
        fields.append("hold_reason")
    elif order.hold_reason:
        order.hold_reason = ""
        fields.append("hold_reason")
    return fields


def event(order: Order, event_type: str, *, actor: str, data: dict[str, Any] | None = None, at=None) -> OrderEvent:
    """An unsaved event of ``order`` (write it with ``record_many``)."""
    return unsaved(OrderEvent, order=order, type=event_type, at=at or timezone.now(), actor=actor, data=data or {})


def record(order: Order, event_type: str, *, actor: str, data: dict[str, Any] | None = None, at=None) -> OrderEvent:
    """Write an event that does not change the status (a note, a reservation, a routing)."""
    return record_many([event(order, event_type, actor=actor, data=data, at=at)])[0]


def record_many(events: list[OrderEvent], *, batch: Batch | None = None) -> list[OrderEvent]:
    """Write events in one INSERT, in order; the outbox queues them together on commit (one callback).

    With ``batch``, the INSERT goes with the batch's other statements, and the events are handed to the
    outbox once it is sent (when they have their keys). A single event is saved, and announced by its
    ``post_save`` (``orders.floor_wiring``), as any other save of an event.
    """
    if batch is None and len(events) == 1:
        events[0].save()  # post_save is sent by save()
        return events
    if batch is None:
        return _announced(insert_many(OrderEvent, events))
    batch.insert(OrderEvent, events, then=_announced)
    return events


def _announced(events):
    outbox.enqueue_many_on_commit(events)  # what each event's post_save would do, for all of them at once
    return events
