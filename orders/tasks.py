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
