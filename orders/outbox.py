"""The event outbox: every ``OrderEvent`` is also a message to send once its transaction commits.

Handlers register per event type (``@outbox.handler("shipment.shipped")``); any
other app may instead listen to ``event_dispatched`` (sent once per dispatched
event, e.g. for outbound webhooks) without orders importing it. Dispatch is
at-least-once: an event is claimed by stamping ``dispatched_at`` (a
conditional UPDATE, so two workers never both send it); if a handler fails,
the stamp is cleared and the task retries with backoff. A beat task sweeps
events left undispatched (a lost task, a broker outage).

Wiring (``orders.floor_wiring``): when an event is created and someone
listens for its type, its id joins the batch of its transaction; on commit
the batch is handed on once (never once per event). If the broker is down the
commit still stands: the error is logged and the sweep sends the events later.

Handing on, with a Redis broker: the commit adds its ids to one Redis list,
and only the commit that finds no drain queued sends ``outbox_drain_task``,
due a second later, which takes every id listed by then. One task carries the
events of every commit of that second (a task costs a worker about 2 ms of
CPU; listing an order's events about 0.1 ms of the request's). The list only
wakes the worker: the events table is the record, and the sweep sends
whatever a lost list or task left behind.
Without Redis (eager tasks, tests) each commit runs ``outbox_dispatch_task``.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connections, router, transaction
from django.dispatch import Signal
from django.utils import timezone

from .models import Order, OrderEvent

log = logging.getLogger(__name__)

# Sent after an event's handlers ran. Arguments: ``event`` (OrderEvent, with ``order`` loaded).
event_dispatched = Signal()

Handler = Callable[[OrderEvent], None]
_HANDLERS: dict[str, list[Handler]] = defaultdict(list)
T = TypeVar("T")
_sending = threading.local()  # the events being dispatched together, and what handlers worked out for all of them


@contextmanager
def _sending_together(events: list[OrderEvent]) -> Iterator[None]:
    _sending.events, _sending.ids, _sending.memo = events, {e.pk for e in events}, {}
    try:
        yield
    finally:
        _sending.events, _sending.ids, _sending.memo = [], set(), {}


def batch_memo(key: Hashable, event: OrderEvent, compute: Callable[[list[OrderEvent]], T]) -> T:
    """``compute(events)`` once for all the events dispatched together with ``event``.

    A handler reads what it needs for the whole batch in one query (the webhook
    endpoints of every channel in it, the partner shipments of every order in it)
    instead of one query per event: an import's commit carries thousands of events.
    Called outside a dispatch (a test, a command), it computes for ``event`` alone.
    """
    if event.pk not in getattr(_sending, "ids", ()):
        return compute([event])
    memo: dict[Hashable, Any] = _sending.memo
    if key not in memo:
        memo[key] = compute(_sending.events)
    return memo[key]


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


# The drain's Redis keys (in the broker's database): the ids committed since the last drain began,
# and "a drain is queued" (expiring, so a lost drain task holds nothing up for longer than that).
PENDING_KEY = "oms:outbox:pending"
DRAIN_QUEUED_KEY = "oms:outbox:drain-queued"
DRAIN_QUEUED_SECONDS = 30
DRAIN_DELAY_SECONDS = 1.0  # how long a drain gathers commits: at 100 orders/s, 100 orders' events per task
DRAIN_BATCH = 500  # events claimed and sent together
DRAIN_ROUNDS = 20  # batches one drain takes before it leaves the rest to the next one
RETRY_AFTER_SECONDS = 10  # a batch whose handler failed goes back to outbox_dispatch_task, with its backoff
_redis_clients: dict[str, Any] = {}


def drain_list():
    """The Redis client the drain lists ids in, or ``None`` when tasks run eagerly or the broker is not Redis."""
    from celery import current_app

    conf = current_app.conf
    url = conf.broker_url or ""
    if conf.task_always_eager or not url.startswith(("redis://", "rediss://")):
        return None
    if url not in _redis_clients:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No retries: with Redis down the request answers at once and the sweep sends the events later.
        no_retry = Retry(NoBackoff(), 0)
        _redis_clients[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, retry=no_retry)
    return _redis_clients[url]


def _send_later(event_ids: list[int]) -> None:
    from . import tasks  # tasks imports services; import late to keep this module light

    try:
        listed = drain_list()
        if listed is None:
            # No publish retries: with the broker down the request answers at once and the sweep sends later.
            tasks.outbox_dispatch_task.apply_async(kwargs={"event_ids": event_ids}, retry=False)
            return
        with listed.pipeline(transaction=False) as pipe:
            pipe.rpush(PENDING_KEY, *event_ids)
            pipe.set(DRAIN_QUEUED_KEY, 1, nx=True, ex=DRAIN_QUEUED_SECONDS)
            first = pipe.execute()[1]
        if first:  # no drain queued: queue one (a drain that already began does not count, see drain())
            _queue_drain(listed)
    except Exception:  # eager mode ran it and it failed (or the broker is down): the sweep retries it
        log.exception("outbox: events %s not dispatched now; the sweep will retry them", event_ids)


def _queue_drain(listed, *, delay: float = DRAIN_DELAY_SECONDS) -> None:
    from . import tasks

    try:
        tasks.outbox_drain_task.apply_async(countdown=delay, retry=False)
    except Exception:
        listed.delete(DRAIN_QUEUED_KEY)  # the next commit tries again
        raise


def drain() -> int:
    """Send the events commits listed since the last drain began (``_send_later``); returns how many.

    The "queued" mark goes first: a commit from here on queues the next drain
    itself, so no id waits on this one finishing. A batch whose handlers failed
    goes to ``outbox_dispatch_task`` (its own backoff); the rest carry on.
    """
    from . import tasks

    listed = drain_list()
    if listed is None:
        return dispatch_pending()
    listed.delete(DRAIN_QUEUED_KEY)
    sent = 0
    for _ in range(DRAIN_ROUNDS):
        popped = listed.lpop(PENDING_KEY, DRAIN_BATCH)
        if not popped:
            return sent
        event_ids = sorted({int(i) for i in popped})
        try:
            sent += dispatch_many(event_ids=event_ids)
        except Exception:
            log.warning("outbox: a batch of %d events had failures; retrying them later", len(event_ids))
            tasks.outbox_dispatch_task.apply_async(kwargs={"event_ids": event_ids}, countdown=RETRY_AFTER_SECONDS)
    if listed.llen(PENDING_KEY) and listed.set(DRAIN_QUEUED_KEY, 1, nx=True, ex=DRAIN_QUEUED_SECONDS):
        _queue_drain(listed, delay=0)  # more than a drain takes: the next one carries on at once
    return sent


class _Batch:
    """The event ids one transaction wrote, sent as one task by the callback of the last of them.

    Every event registers its own on-commit callback, so a rolled-back
    savepoint drops only its own events; each callback marks its event
    committed and the last one sends them all. (Should the last one be rolled
    back, the sweep sends the others.)
    """

    def __init__(self):
        self.event_ids: list[int] = []
        self.committed: list[int] = []
        self.done = False

    def callback(self, *event_ids: int) -> Callable[[], None]:
        """The on-commit callback of events written together (one, or a bulk insert's)."""

        def committed() -> None:
            self.committed.extend(event_ids)
            if not self.done and event_ids[-1] == self.event_ids[-1]:
                self.done = True
                _send_later(list(self.committed))

        return committed


def enqueue_on_commit(event: OrderEvent) -> None:
    """After commit, hand the event to a task (never to the request that wrote it): one task per commit."""
    if wants(event.type):
        _enqueue([event.pk])


def enqueue_many_on_commit(events: list[OrderEvent]) -> None:
    """``enqueue_on_commit`` for events inserted together: one on-commit callback for all of them
    (an import's chunk writes thousands; a callback each cost more than the rest of announcing them)."""
    wanted = {event_type: wants(event_type) for event_type in {e.type for e in events}}
    ids = [e.pk for e in events if wanted[e.type]]
    if ids:
        _enqueue(ids)


def _enqueue(event_ids: list[int]) -> None:
    connection = connections[router.db_for_write(OrderEvent)]
    batch = getattr(connection, "_outbox_batch", None)
    if batch is None or batch.done or not connection.run_on_commit:  # nothing pending: a new transaction
        batch = connection._outbox_batch = _Batch()
    batch.event_ids.extend(event_ids)
    transaction.on_commit(batch.callback(*event_ids), using=connection.alias)


def dispatch(*, event_id: int) -> bool:
    """Run the handlers of one event once. ``False`` when it was already dispatched (a re-run)."""
    claimed = OrderEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    if not claimed:
        return False
    event = OrderEvent.objects.select_related("order", "order__customer", "order__channel").get(pk=event_id)
    try:
        with _sending_together([event]):
            for fn in handlers_for(event.type):
                fn(event)
            event_dispatched.send(sender=OrderEvent, event=event)
    except Exception:
        OrderEvent.objects.filter(pk=event_id).update(dispatched_at=None)
        raise
    return True


def dispatch_many(*, event_ids: list[int]) -> int:
    """Dispatch a commit's events; returns how many this call sent.

    All are claimed at once: one transaction locks the undispatched ones
    (skipping rows another worker holds) and stamps them. A failing event
    lets go of its claim and the others still go; the first error is raised
    at the end so the task retries (a re-run skips what was sent).
    """
    with transaction.atomic():
        events = list(
            OrderEvent.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(event_ids), dispatched_at__isnull=True)
            .order_by("id")
        )
        if not events:
            return 0
        OrderEvent.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=timezone.now())
    _with_orders(events)
    sent = 0
    failure: Exception | None = None
    with _sending_together(events):
        for event in events:
            try:
                for fn in handlers_for(event.type):
                    fn(event)
                event_dispatched.send(sender=OrderEvent, event=event)
            except Exception as exc:
                OrderEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
                log.warning("outbox: event %s failed; it will be retried", event.pk, exc_info=True)
                failure = failure or exc
                continue
            sent += 1
    if failure is not None:
        raise failure
    return sent


def _with_orders(events: list[OrderEvent]) -> None:
    """Give each event its order, with the customer and channel, read once per order: an order's
    events come together (an order placed writes three), and joining them to every event cost the
    drain most of its time building the same rows again."""
    orders = Order.objects.select_related("customer", "channel").in_bulk({e.order_id for e in events})
    for event in events:
        event.order = orders[event.order_id]


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
