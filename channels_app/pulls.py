"""Pull connectors' writes: configure a channel, pull its new orders, push tracking back.

A pull stages every fetched order (``way_in=pull``, deduplicated by content, so
running it again stores and places nothing new) and places it through
``orders.services.place_order``. The cursor moves forward only after the whole
pull is stored; a pull that fails half way (the marketplace down, rate limits
that never end) leaves the cursor where it was, and the next pull fetches the
same orders again, which the dedupe absorbs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orders.errors import ErrorItem, InvalidInput
from orders.models import OrderEvent, Shipment

from . import connectors
from .intake import ImportResult, inbound_import
from .models import ChannelConnector, ConnectorShipmentPush, InboundOrder, SalesChannel

MAX_PUSH_ATTEMPTS = 10
# After a failed pull (the marketplace down, rate limited, answering garbage) the beat leaves that channel
# alone this long; every pull already retries each request with backoff before it gives up.
PULL_COOL_DOWN = timedelta(minutes=15)


@transaction.atomic
def connector_configure(
    *,
    channel: SalesChannel,
    kind: str,
    base_url: str,
    token: str,
    secret: str = "",
    api_version: str = "",
    since: datetime | None = None,
) -> ChannelConnector:
    errors = []
    if kind not in ChannelConnector.Kind.values:
        errors.append(
            ErrorItem("invalid_choice", f"Connector must be one of {', '.join(ChannelConnector.Kind.values)}.", "kind")
        )
    if not base_url.startswith(("http://", "https://")):
        errors.append(ErrorItem("invalid_url", "The base URL must start with http:// or https://.", "base_url"))
    if not token:
        errors.append(ErrorItem("required", "A token (Shopify) or consumer key (WooCommerce) is required.", "token"))
    if kind == ChannelConnector.Kind.WOOCOMMERCE and not secret:
        errors.append(ErrorItem("required", "WooCommerce needs the consumer secret too.", "secret"))
    if errors:
        raise InvalidInput(errors)
    defaults = {"kind": kind, "base_url": base_url, "token": token, "secret": secret, "enabled": True}
    if api_version:
        defaults["api_version"] = api_version
    if since is not None:
        defaults["cursor"] = since
    config, _ = ChannelConnector.objects.update_or_create(channel=channel, defaults=defaults)
    return config


def pull_orders(*, channel: SalesChannel, sleep: Callable[[float], None] = time.sleep) -> ImportResult:
    """One pull: fetch every order changed since the cursor, stage and place each, then move the cursor.

    Raises ``ConnectorError`` (after recording it on the connector) when the
    marketplace cannot be read; what was stored before stays stored.
    """
    config = ChannelConnector.objects.select_related("channel").get(channel=channel)
    connector = connectors.for_connector(config, sleep=sleep)
    newest: list[datetime] = []

    def payloads():
        for pulled in connector.fetch_orders(since=config.cursor):
            if not newest or pulled.updated_at > newest[0]:
                newest[:] = [pulled.updated_at]
            yield pulled.payload

    started = timezone.now()
    try:
        result = inbound_import(
            channel=channel,
            fmt=connector.format,
            payloads=payloads(),
            actor=f"channel:{channel.code}",
            way_in=InboundOrder.WayIn.PULL,
            source=f"{config.kind} pull",
        )
    except connectors.ConnectorError as exc:
        ChannelConnector.objects.filter(pk=config.pk).update(last_pull_at=started, last_error=str(exc)[:2000])
        raise
    cursor = max([c for c in (config.cursor, *newest) if c is not None], default=None)
    ChannelConnector.objects.filter(pk=config.pk).update(cursor=cursor, last_pull_at=started, last_error="")
    return result


def connected_channel_ids(*, now: datetime | None = None) -> list[int]:
    """Channels the beat pulls now: enabled connectors, except one whose last pull failed less than
    ``PULL_COOL_DOWN`` ago (its error stays on ``last_error``; the others are pulled as usual)."""
    now = now or timezone.now()
    cooling = Q(last_error__gt="", last_pull_at__gt=now - PULL_COOL_DOWN)
    return list(
        ChannelConnector.objects.filter(enabled=True, channel__active=True)
        .exclude(cooling)
        .values_list("channel_id", flat=True)
    )


def connector_push_for_event(*, event: OrderEvent) -> int | None:
    """A shipment of a connected channel's order shipped: note that its tracking must go back. Idempotent."""
    if event.type != "shipment.shipped":
        return None
    config = ChannelConnector.objects.filter(channel_id=event.order.channel_id, enabled=True).first()
    shipment_id = event.data.get("shipment_id")
    if config is None or shipment_id is None:
        return None
    push, _ = ConnectorShipmentPush.objects.get_or_create(shipment_id=shipment_id, defaults={"connector": config})
    return push.pk if push.pushed_at is None else None


def connector_push(*, push_id: int, sleep: Callable[[float], None] = time.sleep) -> ConnectorShipmentPush:
    """Send one shipment's tracking to its marketplace (no lock held across the call). Done once."""
    push = ConnectorShipmentPush.objects.select_related("connector", "connector__channel").get(pk=push_id)
    if push.pushed_at is not None:
        return push
    shipment = Shipment.objects.select_related("order").get(pk=push.shipment_id)
    tracking = connectors.Tracking(
        external_id=shipment.order.external_id,
        carrier=shipment.carrier or "",
        tracking_number=shipment.tracking_number or shipment.number,
        tracking_url=shipment.tracking_url or "",
    )
    try:
        connectors.for_connector(push.connector, sleep=sleep).push_tracking(tracking)
    except connectors.ConnectorError as exc:
        ConnectorShipmentPush.objects.filter(pk=push.pk).update(attempts=push.attempts + 1, last_error=str(exc)[:2000])
    else:
        ConnectorShipmentPush.objects.filter(pk=push.pk, pushed_at__isnull=True).update(
            attempts=push.attempts + 1, pushed_at=timezone.now(), last_error=""
        )
    push.refresh_from_db()
    return push


def pending_push_ids() -> list[int]:
    return list(
        ConnectorShipmentPush.objects.filter(pushed_at__isnull=True, attempts__lt=MAX_PUSH_ATTEMPTS).values_list(
            "pk", flat=True
        )
    )
