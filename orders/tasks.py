"""Celery tasks of orders: thin, idempotent, retried with backoff."""

from celery import shared_task

from . import services
from .models import OrderLine


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def backorders_allocate_task(self, *, product_ids: list[int]) -> int:
    """Allocate stock to backorders of these products. A re-run finds nothing left to do."""
    return len(services.backorders_allocate(product_ids=product_ids))


@shared_task(acks_late=True)
def backorders_allocate_all() -> int:
    """Beat safety net: allocate every product that has backorders waiting."""
    product_ids = list(
        OrderLine.objects.filter(quantity_backordered__gt=0).values_list("product_id", flat=True).distinct()
    )
    return len(services.backorders_allocate(product_ids=product_ids)) if product_ids else 0


@shared_task(acks_late=True)
def backorders_cancel_overdue_task() -> int:
    """Beat (hourly): cancel backorders past their channel's ``cancel_after_days``. A re-run finds nothing."""
    from . import backorder_policy

    return len(backorder_policy.backorders_cancel_overdue())


# --- The floor (issue 4): outbox, tracking polls, promises at risk. ---------------------------------


@shared_task(
    bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=3600, max_retries=8
)
def outbox_dispatch_task(self, *, event_ids: list[int] | None = None, event_id: int | None = None) -> int:
    """Send one commit's events to their handlers (e-mails, partner handoff, webhooks). A re-run is a no-op.

    ``event_id`` alone: a message queued before events were sent in batches.
    """
    from . import outbox

    return outbox.dispatch_many(event_ids=list(event_ids or []) + ([event_id] if event_id is not None else []))


@shared_task(acks_late=True)
def outbox_drain_task() -> int:
    """Send every event commits listed for the drain (a Redis broker). Safe to run twice: claims decide."""
    from . import outbox

    return outbox.drain()


@shared_task(acks_late=True)
def outbox_sweep() -> int:
    """Beat safety net: dispatch events whose task was lost."""
    from . import outbox

    return outbox.dispatch_pending()


@shared_task(
    bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=3600, max_retries=5
)
def shipment_poll_task(self, *, shipment_id: int) -> str:
    """Ask the carrier about one shipment; the same events again change nothing."""
    from . import tracking

    return tracking.shipment_poll(shipment_id=shipment_id)


@shared_task(acks_late=True)
def shipments_poll_due() -> int:
    """Beat: enqueue a poll for every shipment in transit whose next poll is due."""
    from . import tracking

    due = tracking.due_shipment_ids()
    for shipment_id in due:
        shipment_poll_task.delay(shipment_id=shipment_id)
    return len(due)


@shared_task(acks_late=True)
def promises_check() -> int:
    """Beat: record ``promise_at_risk`` once per order at risk (the outbox e-mails the customer)."""
    from . import promises

    return len(promises.promises_flag_at_risk())
