"""Tracking in the background: ask each shipment's adapter what the carrier saw, move the shipment on.

Polls shipments that left (``shipped``, ``in_transit``, ``exception``) and are
tracked by an adapter other than ``manual``. Each checkpoint is stored once
(``TrackingEvent.key``), and only new checkpoints move the shipment, so the
same answer polled twice changes nothing. A failed poll backs off
exponentially (5 min, 10, 20 ... at most 12 h), kept in the row so a restart
does not forget it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import carriers, shipment_lifecycle
from .fulfilment import lock_shipment, order_sync_status
from .fulfilment_errors import CarrierError
from .models import Shipment, ShipmentStatus, TrackingEvent

POLLABLE = (ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION)
BACKOFF_BASE = timedelta(minutes=5)
BACKOFF_MAX = timedelta(hours=12)


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
    """One poll of one shipment: ``moved:<status>``, ``unchanged``, ``failed`` or ``closed``."""
    now = now or timezone.now()
    shipment = Shipment.objects.select_related("order", "location").get(pk=shipment_id)
    if shipment.status not in POLLABLE or shipment.tracking_provider in ("", carriers.MANUAL):
        return "closed"
    try:
        result = carriers.get(shipment.tracking_provider).track(shipment)  # the network, outside any lock
    except CarrierError:
        failures = shipment.poll_failures + 1
        Shipment.objects.filter(pk=shipment_id).update(
            poll_failures=failures, last_polled_at=now, next_poll_at=now + backoff(failures)
        )
        return "failed"
    return _apply(shipment_id=shipment_id, result=result, now=now)


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
