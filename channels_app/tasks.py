"""Celery tasks of channels_app: thin and idempotent; they call services."""

from __future__ import annotations

from celery import shared_task

from . import webhooks


@shared_task(acks_late=True)
def webhook_deliver_task(*, message_id: int) -> bool:
    """First attempt at a webhook message. Not retried by Celery: the due sweep retries with backoff."""
    message = webhooks.webhook_deliver(message_id=message_id)
    return bool(message and message.status == message.Status.DELIVERED)


@shared_task(acks_late=True)
def webhooks_deliver_due_task() -> int:
    """Beat: retry every webhook message whose backoff has passed (and any whose first task was lost)."""
    return webhooks.webhooks_deliver_due()


@shared_task(acks_late=True)
def pull_orders_task(*, channel_id: int) -> str:
    """One pull of a connected channel. Idempotent: a re-run stores and places nothing new.

    A marketplace that cannot be read is not a task failure: the pull retried with backoff, parked its
    error on the connector (``last_error``) and the beat leaves the channel alone for a while.
    """
    from .connectors import ConnectorError
    from .models import SalesChannel
    from .pulls import pull_orders

    try:
        return str(pull_orders(channel=SalesChannel.objects.get(pk=channel_id)))
    except ConnectorError as exc:
        return f"failed: {exc}"


@shared_task(acks_late=True)
def pull_all_connected_task() -> int:
    """Beat: a pull for every enabled connector."""
    from .pulls import connected_channel_ids

    ids = connected_channel_ids()
    for channel_id in ids:
        pull_orders_task.delay(channel_id=channel_id)
    return len(ids)


@shared_task(acks_late=True)
def connector_push_task(*, push_id: int) -> bool:
    """Push one shipment's tracking back to its marketplace; failures are retried by the beat sweep."""
    from .pulls import connector_push

    return connector_push(push_id=push_id).pushed_at is not None


@shared_task(acks_late=True)
def connector_pushes_retry_task() -> int:
    """Beat: try again every tracking push that has not gone through yet."""
    from .pulls import connector_push, pending_push_ids

    return sum(connector_push(push_id=push_id).pushed_at is not None for push_id in pending_push_ids())
