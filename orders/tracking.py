"""Tracking in the background: ask each shipment's adapter what the carrier saw, move the shipment on.

Polls shipments that left (``shipped``, ``in_transit``, ``exception``) and are
tracked by an adapter other than ``manual``. Each checkpoint is stored once
(``TrackingEvent.key``), and only new checkpoints move the shipment, so the
same answer polled twice changes nothing. A failed poll (the carrier down,
429, 5xx, a timeout, an answer that is not JSON, or anything else the adapter
raises) backs off exponentially (5 min, 10, 20 ... at most 12 h, longer if the
carrier's ``Retry-After`` says so), kept in the row so a restart does not
forget it. After ``MAX_POLL_FAILURES`` failures in a row the shipment is
parked: no more polls, and a ``tracking_parked`` event on the order's timeline
says why, for staff to look at.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import carriers, lifecycle, shipment_lifecycle
from .fulfilment import lock_shipment, order_sync_status
from .fulfilment_errors import CarrierError
from .models import Shipment, ShipmentStatus, TrackingEvent

log = logging.getLogger(__name__)

POLLABLE = (ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION)
BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=12)
MAX_POLL_FAILURES = 10  # the ninth wait ends about 33 hours after the first failure
TRACKING_PARKED = "tracking_parked"
RETRY_AFTER_MAX = timedelta(days=1)  # a carrier's Retry-After is honoured up to this


def poll_interval() -> timedelta:
    return timedelta(minutes=getattr(settings, "OMS_TRACKING_POLL_MINUTES", 60))


def backoff(failures: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(failures - 1, 0)), BACKOFF_MAX)


def due_shipment_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Shipment.objects.filter(status__in=POLLABLE, next_poll_at__lte=now)
        .exclude(tracking_provider__in=["", carriers.MANUAL])
        .order_by("next_poll_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def shipment_poll(*, shipment_id: int, now: datetime | None = None) -> str:
    """One poll of one shipment: ``moved:<status>``, ``unchanged``, ``failed``, ``parked`` or ``closed``."""
    now = now or timezone.now()
    shipment = Shipment.objects.select_related("order", "location").get(pk=shipment_id)
    if shipment.status not in POLLABLE or shipment.tracking_provider in ("", carriers.MANUAL):
        return "closed"
    try:
        result = carriers.get(shipment.tracking_provider).track(shipment)  # the network, outside any lock
    except CarrierError as exc:
        return _poll_failed(shipment=shipment, error=exc.detail, retry_after=getattr(exc, "retry_after", None), now=now)
    except Exception as exc:  # an adapter bug on an odd answer must not become a retry storm either
        log.exception("tracking: polling shipment %s crashed", shipment.number)
        return _poll_failed(shipment=shipment, error=f"{type(exc).__name__}: {exc}", retry_after=None, now=now)
    return _apply(shipment_id=shipment_id, result=result, now=now)


@transaction.atomic
def _poll_failed(*, shipment: Shipment, error: str, retry_after: float | None, now: datetime) -> str:
    """Back off (at least as long as the carrier asked), or park the shipment with the reason on its order."""
    failures = shipment.poll_failures + 1
    wait = max(backoff(failures), min(timedelta(seconds=retry_after or 0), RETRY_AFTER_MAX))
    parked = failures >= MAX_POLL_FAILURES
    Shipment.objects.filter(pk=shipment.pk).update(
        poll_failures=failures, last_polled_at=now, next_poll_at=None if parked else now + wait
    )
    log.warning("tracking: poll %s of shipment %s failed: %s", failures, shipment.number, error)
    if not parked:
        return "failed"
    lifecycle.record(
        shipment.order,
        TRACKING_PARKED,
        actor=f"carrier:{shipment.tracking_provider}",
        at=now,
        data={"shipment": shipment.number, "shipment_id": shipment.pk, "failures": failures, "error": error[:500]},
    )
    return "parked"


@transaction.atomic
def _apply(*, shipment_id: int, result: carriers.TrackingResult, now: datetime) -> str:
    order, shipment = lock_shipment(Shipment.objects.only("id", "order_id").get(pk=shipment_id))
    known = set(
        TrackingEvent.objects.filter(shipment=shipment, key__in=[u.key for u in result.updates]).values_list(
            "key", flat=True
        )
    )
    fresh = sorted((u for u in result.updates if u.key not in known), key=lambda u: u.at)
    TrackingEvent.objects.bulk_create(
        [
            TrackingEvent(
                shipment=shipment,
                key=u.key,
                status=u.status[:40],
                mapped=u.mapped,
                at=u.at,
                message=u.message,
                location=u.location,
            )
            for u in {u.key: u for u in fresh}.values()
        ],
        ignore_conflicts=True,
    )
    actor = f"carrier:{shipment.tracking_provider}"
    start = shipment.status
    for update in fresh:
        if update.mapped and update.mapped != shipment.status and shipment_lifecycle.can_move(shipment, update.mapped):
            data = {"carrier_status": update.status, "message": update.message, "location": update.location}
            shipment_lifecycle.apply(shipment, update.mapped, actor=actor, at=update.at, data=data)
    shipment.carrier_ref = result.carrier_ref or shipment.carrier_ref
    shipment.last_polled_at = now
    shipment.poll_failures = 0
    shipment.next_poll_at = None if shipment.status == ShipmentStatus.DELIVERED else now + poll_interval()
    if not shipment.tracking_url and result.public_url:
        shipment.tracking_url = result.public_url
    shipment.save(update_fields=["carrier_ref", "last_polled_at", "poll_failures", "next_poll_at", "tracking_url"])
    if shipment.status != start:
        order_sync_status(order=order, actor=actor)
        return f"moved:{shipment.status}"
    return "unchanged"


def poll_round(*, now: datetime | None = None) -> dict[int, str]:
    """Poll every due shipment now, one after the other (``manage.py poll_shipments``)."""
    now = now or timezone.now()
    return {pk: shipment_poll(shipment_id=pk, now=now) for pk in due_shipment_ids(now=now)}
