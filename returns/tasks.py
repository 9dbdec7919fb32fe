"""Celery tasks of returns: thin, idempotent, retried with backoff."""

from celery import shared_task

from . import notifications


@shared_task(bind=True, acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def return_email_task(self, *, return_id: int, kind: str) -> bool:
    """E-mail the customer about their return; a re-run after success sends nothing."""
    return notifications.return_email_send(return_id=return_id, kind=kind)
