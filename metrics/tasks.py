"""Celery tasks of metrics: keep the KPI rollups fresh (thin, idempotent, retried with backoff)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def kpi_rollups_refresh_task(*, full: bool = False) -> int:
    """Every few minutes: the days whose orders changed, and yesterday once it closed; nightly, ``full``."""
    return services.kpi_rollups_refresh(full=full).rows
