"""The event outbox: every ``OrderEvent`` is also a message to send once its transaction commits.

Handlers register per event type (``@outbox.handler("shipment.shipped")``); any
other app may instead listen to ``event_dispatched`` (sent once per dispatched
event, e.g. for outbound webhooks) without orders importing it. Dispatch is
at-least-once: an event is claimed by stamping ``dispatched_at`` (a
conditional UPDATE, so two workers never both send it); if a handler fails,
the stamp is cleared and the task retries with backoff. A beat task sweeps
events left undispatched (a lost task, a broker outage).

Wiring (``orders.floor_wiring``): when an event is created and someone
listens for its type, ``outbox_dispatch_task`` is enqueued on commit.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from .models import OrderEvent

log = logging.getLogger(__name__)

# Sent after an event's handlers ran. Arguments: ``event`` (OrderEvent, with ``order`` loaded).
event_dispatched = Signal()

Handler = Callable[[OrderEvent], None]
_HANDLERS: dict[str, list[Handler]] = defaultdict(list)


def handler(*event_types: str) -> Callable[[Handler], Handler]:
    """Register ``fn(event)`` to run after commit for events of these types."""

    def register(fn: Handler) -> Handler:
        for event_type in event_types:
            if fn not in _HANDLERS[event_type]:
                _HANDLERS[event_type].append(fn)
        return fn

    return register


def handlers_for(event_type: str) -> list[Handler]:
    return list(_HANDLERS.get(event_type, ()))


def wants(event_type: str) -> bool:
    """Does anyone listen for this event type (a handler, or a receiver of ``event_dispatched``)?"""
    return bool(_HANDLERS.get(event_type)) or event_dispatched.has_listeners(OrderEvent)


def _send_later(event_id: int) -> None:
    from . import tasks  # tasks imports services; import late to keep this module light

    try:
        tasks.outbox_dispatch_task.delay(event_id=event_id)
    except Exception:  # eager mode ran it and it failed (or the broker is down): the sweep retries it
        log.exception("outbox: event %s not dispatched now; the sweep will retry it", event_id)


def enqueue_on_commit(event: OrderEvent) -> None:
    """After commit, hand the event to a task (never to the request that wrote it)."""
    if wants(event.type):
        event_id = event.pk
        transaction.on_commit(lambda: _send_later(event_id))


def dispatch(*, event_id: int) -> bool:
    """Run the handlers of one event once. ``False`` when it was already dispatched (a re-run)."""
    claimed = OrderEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    if not claimed:
        return False
    event = OrderEvent.objects.select_related("order", "order__customer", "order__channel").get(pk=event_id)
    try:
        for fn in handlers_for(event.type):
            fn(event)
        event_dispatched.send(sender=OrderEvent, event=event)
    except Exception:
        OrderEvent.objects.filter(pk=event_id).update(dispatched_at=None)
        raise
    return True


def dispatch_pending(*, limit: int = 500) -> int:
    """Dispatch events nobody sent yet, oldest first; failures are logged and left for the next sweep."""
    ids = list(
        OrderEvent.objects.filter(dispatched_at__isnull=True).order_by("id").values_list("id", flat=True)[:limit]
    )
    sent = 0
    for event_id in ids:
        try:
            sent += dispatch(event_id=event_id)
        except Exception:
            log.exception("outbox: event %s failed; it will be retried", event_id)
    return sent
