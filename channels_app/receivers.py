"""What channels_app does when lower layers announce something (connected in ``AppConfig.ready``)."""

from __future__ import annotations

from django.db import transaction


def on_event_dispatched(sender, *, event, **kwargs):
    """The orders outbox dispatched an event after its commit.

    Fan it out to the channel's webhooks, and when a shipment of a connected
    marketplace's order shipped, push its tracking back. Raising here makes the
    outbox retry the event; both steps are idempotent per event and shipment.
    """
    from . import pulls, tasks, webhooks

    for message_id in webhooks.webhook_fanout(event=event):
        transaction.on_commit(lambda mid=message_id: tasks.webhook_deliver_task.delay(message_id=mid))
    push_id = pulls.connector_push_for_event(event=event)
    if push_id is not None:
        transaction.on_commit(lambda: tasks.connector_push_task.delay(push_id=push_id))
