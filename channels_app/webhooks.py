"""Outbound webhooks: tell a channel's URLs what happened to its orders.

The source is the orders outbox (``orders.outbox``): once an ``OrderEvent`` is
dispatched after its commit, ``webhook_fanout`` writes one ``WebhookMessage``
per interested endpoint (at most one per endpoint and event, enforced by a
unique constraint, so a re-dispatched event sends nothing twice) and each is
delivered by a task. A delivery POSTs the exact stored body with:

* ``X-OMS-Event-Id``: a UUID per message, stable across retries (receivers dedupe on it);
* ``X-OMS-Event``: the event name, e.g. ``order.received``;
* ``X-OMS-Signature``: ``sha256=<hex HMAC-SHA256 of the body with the endpoint's secret>``.

Any 2xx is success. Anything else (or no answer) is retried with exponential
backoff (``RETRY_BASE_SECONDS * 2**(attempt-1)``, capped) by the beat sweep
``webhooks_deliver_due``, up to ``MAX_ATTEMPTS``; every attempt is logged as a
``WebhookDelivery``. A message is claimed with a conditional UPDATE (a lease),
so two workers never post it at the same time, and no lock is held while the
network call runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from orders import outbox
from orders.errors import ErrorItem, InvalidInput
from orders.models import OrderEvent

from .models import SalesChannel, WebhookDelivery, WebhookEndpoint, WebhookMessage

log = logging.getLogger(__name__)

EVENTS = (
    "order.received",
    "order.backordered",
    "order.on_hold",
    "order.cancelled",
    "order.shipped",
    "order.delivered",
    "shipment.shipped",
    "shipment.in_transit",
    "shipment.delivered",
    "shipment.exception",
    "return.*",
)
MAX_ATTEMPTS = 10
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 6 * 3600
LEASE_SECONDS = 60
TIMEOUT_SECONDS = 10
USER_AGENT = "OMS-Webhooks/1"


def event_name(event_type: str) -> str:
    """``received`` -> ``order.received``; ``shipment.shipped`` and ``return.approved`` stay as they are."""
    return event_type if "." in event_type else f"order.{event_type}"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS))


@transaction.atomic
def webhook_endpoint_create(*, channel: SalesChannel, url: str, events: list[str], secret: str = "") -> WebhookEndpoint:
    """Register a URL for some events; the signing secret is generated unless given."""
    errors = []
    if not url.startswith(("http://", "https://")):
        errors.append(ErrorItem("invalid_url", "The URL must start with http:// or https://.", "url"))
    if not events:
        errors.append(ErrorItem("required", "Name at least one event, e.g. order.received or shipment.*.", "events"))
    if errors:
        raise InvalidInput(errors)
    return WebhookEndpoint.objects.create(
        channel=channel, url=url, events=list(events), secret=secret or secrets.token_urlsafe(32)
    )


def _body(event: OrderEvent, name: str) -> dict:
    order = event.order
    return {
        "type": name,
        "occurred_at": event.at,
        "actor": event.actor,
        "order": {
            "id": order.pk,
            "number": order.number,
            "channel": order.channel.code,
            "external_id": order.external_id,
            "status": order.status,
        },
        "data": event.data,
    }


def _active_endpoints(events: list[OrderEvent]) -> dict[int, list[WebhookEndpoint]]:
    """The active endpoints of every channel in a dispatched batch, by channel: one query."""
    by_channel: dict[int, list[WebhookEndpoint]] = defaultdict(list)
    channel_ids = {e.order.channel_id for e in events}
    for endpoint in WebhookEndpoint.objects.filter(channel_id__in=channel_ids, active=True).order_by("pk"):
        by_channel[endpoint.channel_id].append(endpoint)
    return by_channel


def webhook_fanout(*, event: OrderEvent) -> list[int]:
    """One message per endpoint of the order's channel that wants this event; idempotent per event.

    Returns the ids of messages still waiting to be sent, for the caller to enqueue.
    """
    name = event_name(event.type)
    by_channel = outbox.batch_memo("webhook_endpoints", event, _active_endpoints)
    endpoints = [e for e in by_channel.get(event.order.channel_id, ()) if e.wants(name)]
    if not endpoints:
        return []
    now = timezone.now()
    messages = []
    for endpoint in endpoints:
        event_id = uuid.uuid4()
        body = {"id": str(event_id), **_body(event, name)}
        messages.append(
            WebhookMessage(
                endpoint=endpoint,
                event_id=event_id,
                source_event_id=event.pk,
                event_type=name,
                body=json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":")),
                next_attempt_at=now,
            )
        )
    WebhookMessage.objects.bulk_create(messages, ignore_conflicts=True)
    return list(
        WebhookMessage.objects.filter(
            endpoint__in=endpoints, source_event_id=event.pk, status=WebhookMessage.Status.PENDING
        ).values_list("pk", flat=True)
    )


def _claim(message_id: int, now: datetime) -> bool:
    """Take a lease on a due message; False when it is not due, delivered, or another worker has it."""
    return bool(
        WebhookMessage.objects.filter(
            pk=message_id, status=WebhookMessage.Status.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
    )


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.reason if isinstance(exc.reason, str) else ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"


def webhook_deliver(*, message_id: int, now: datetime | None = None) -> WebhookMessage | None:
    """One attempt at one message, if it is due. Returns the message, or None when there was nothing to do."""
    now = now or timezone.now()
    if not _claim(message_id, now):
        return None
    message = WebhookMessage.objects.select_related("endpoint").get(pk=message_id)
    attempt = message.attempts + 1
    body = message.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-OMS-Event-Id": str(message.event_id),
        "X-OMS-Event": message.event_type,
        "X-OMS-Delivery-Attempt": str(attempt),
        "X-OMS-Signature": sign(message.endpoint.secret, body),
    }
    started = time.monotonic()
    status_code, error = _post(message.endpoint.url, body, headers)
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        WebhookDelivery.objects.create(
            message=message,
            attempt=attempt,
            at=now,
            status_code=status_code,
            error=error[:2000],
            duration_ms=duration_ms,
        )
        message.attempts = attempt
        if ok:
            message.status, message.delivered_at = WebhookMessage.Status.DELIVERED, timezone.now()
        elif attempt >= MAX_ATTEMPTS:
            message.status = WebhookMessage.Status.FAILED
        else:
            message.next_attempt_at = now + backoff(attempt)
        message.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at"])
    if not ok:
        log.info(
            "webhook %s to %s failed (attempt %s): %s",
            message.event_id,
            message.endpoint.url,
            attempt,
            status_code or error,
        )
    return message


def due_message_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        WebhookMessage.objects.filter(status=WebhookMessage.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def webhooks_deliver_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """The retry sweep (beat): one attempt at every message whose time has come. Returns how many went out OK."""
    delivered = 0
    for message_id in due_message_ids(now=now, limit=limit):
        message = webhook_deliver(message_id=message_id, now=now)
        delivered += bool(message and message.status == WebhookMessage.Status.DELIVERED)
    return delivered


@transaction.atomic
def webhook_message_retry(*, message: WebhookMessage) -> WebhookMessage:
    """Staff send a message again now (a failed one gets a fresh set of attempts)."""
    message = WebhookMessage.objects.select_for_update().get(pk=message.pk)
    if message.status == WebhookMessage.Status.DELIVERED:
        return message
    message.status = WebhookMessage.Status.PENDING
    message.next_attempt_at = timezone.now()
    if message.attempts >= MAX_ATTEMPTS:
        message.attempts = 0
    message.save(update_fields=["status", "next_attempt_at", "attempts"])
    return message
