"""Celery tasks of inventory: thin, idempotent, retried with backoff."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage

from . import purchase_lifecycle, purchasing
from .models import PurchaseOrder


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def reorder_drafts_task() -> int:
    """Daily: draft the recurring purchase orders that are due, then purchase orders for what fell below
    its reorder point (recurring drafts count as incoming). A re-run the same day drafts nothing new."""
    recurring = purchasing.recurring_purchase_orders_draft(actor="system")
    return len(recurring) + len(purchasing.reorder_drafts_create(actor="system"))


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def purchase_order_email_task(*, purchase_order_id: int) -> bool:
    """E-mail the supplier its purchase order as CSV, once (an ``emailed`` event marks it done)."""
    po = PurchaseOrder.objects.select_related("supplier", "location").get(pk=purchase_order_id)
    if po.events.filter(type="emailed").exists():
        return False
    message = EmailMessage(
        subject=f"Purchase order {po.number}",
        body=(
            f"Hello {po.supplier.name},\n\nplease find attached purchase order {po.number}, "
            f"to deliver to {po.location.name} ({po.location.code}) by {po.expected_on}.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[po.supplier.email],
    )
    message.attach(f"{po.number}.csv", purchasing.purchase_order_csv(po), "text/csv")
    message.send()
    purchase_lifecycle.record(po, "emailed", actor="system", data={"to": po.supplier.email})
    return True
