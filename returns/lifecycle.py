"""The return state machine: the only code that assigns ``Return.status``.

``requested -> approved -> received -> closed``, or ``rejected`` before the
goods are in (DESIGN.md "Returns"). Each move writes ``return.<status>`` on the
order's timeline, so the order's events tell the whole story.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from orders import lifecycle as order_lifecycle
from orders.errors import InvalidTransition
from orders.models import OrderEvent

from .models import Return
from .models import ReturnStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.RECEIVED, S.REJECTED}),
    S.RECEIVED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.REJECTED: frozenset(),
}

# The timestamp each state stamps on the return.
_STAMPS = {S.APPROVED: "approved_at", S.RECEIVED: "received_at", S.CLOSED: "closed_at", S.REJECTED: "rejected_at"}


def can_move(rma: Return, to: str) -> bool:
    return to in TRANSITIONS[rma.status]


def apply(rma: Return, to: str, *, actor: str, data: dict[str, Any] | None = None, at=None) -> OrderEvent:
    """Move ``rma`` to ``to``, save it and write the event; refuse an illegal move (409 ``invalid_transition``).

    Call inside the service's transaction with the return row locked.
    """
    if to not in TRANSITIONS[rma.status]:
        raise InvalidTransition(
            f"Return {rma.number} cannot go from {rma.status} to {to}.",
            extra={"from": rma.status, "to": to},
        )
    at = at or timezone.now()
    rma.status = to
    stamp = _STAMPS[to]
    setattr(rma, stamp, at)
    rma.save(update_fields=["status", stamp, "updated_at"])
    return record(rma, f"return.{to}", actor=actor, data=data, at=at)


def record(rma: Return, event_type: str, *, actor: str, data: dict[str, Any] | None = None, at=None) -> OrderEvent:
    """An event about this return on its order's timeline (``data`` always names the RMA)."""
    return order_lifecycle.record(
        rma.order, event_type, actor=actor, data={"return": rma.number, **(data or {})}, at=at
    )
