"""The Celery app and its beat schedule, in one place."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _settle_heap(**_) -> None:
    """Each worker process, once it has forked: the collector set as in gunicorn's workers (config/heap.py)."""
    from config import heap

    heap.settle()


# Every periodic job of the system is listed here; the tasks themselves live in
# each app's tasks.py and are idempotent, so a missed or doubled beat is harmless.
app.conf.beat_schedule = {
    "allocate-backorders": {
        "task": "orders.tasks.backorders_allocate_all",
        "schedule": crontab(minute="*/15"),
    },
    "cancel-overdue-backorders": {  # orders: channels whose backorders expire after N days (backorder policy)
        "task": "orders.tasks.backorders_cancel_overdue_task",
        "schedule": crontab(minute=23),
    },
    "webhooks-deliver-due": {  # channels_app: webhook retries with backoff, and lost first attempts
        "task": "channels_app.tasks.webhooks_deliver_due_task",
        "schedule": 60.0,
    },
    "pull-connected-channels": {  # channels_app: Shopify / WooCommerce pulls from each channel's cursor
        "task": "channels_app.tasks.pull_all_connected_task",
        "schedule": crontab(minute="*/5"),
    },
    "retry-tracking-pushes": {  # channels_app: tracking numbers a marketplace did not take yet
        "task": "channels_app.tasks.connector_pushes_retry_task",
        "schedule": crontab(minute="*/5"),
    },
    "poll-shipment-tracking": {  # orders: ask carriers about shipments in transit (each has its own backoff)
        "task": "orders.tasks.shipments_poll_due",
        "schedule": crontab(minute="*/10"),
    },
    "outbox-sweep": {  # orders: events whose dispatch task was lost (customer e-mails, partner handoff)
        "task": "orders.tasks.outbox_sweep",
        "schedule": crontab(minute="*/5"),
    },
    "promises-at-risk": {  # orders: flag orders whose promised date is at risk (the outbox e-mails them)
        "task": "orders.tasks.promises_check",
        "schedule": crontab(minute=7),
    },
    "kpi-rollups-refresh": {  # metrics: the KPI rollups of the days whose orders changed, and of yesterday
        "task": "metrics.tasks.kpi_rollups_refresh_task",
        "schedule": crontab(minute="*/10"),
    },
    "kpi-rollups-rebuild": {  # metrics: nightly, every day again (what no order event announced)
        "task": "metrics.tasks.kpi_rollups_refresh_task",
        "schedule": crontab(hour=2, minute=40),
        "kwargs": {"full": True},
    },
    "draft-reorder-purchase-orders": {  # inventory: daily drafts for stock below its reorder point
        "task": "inventory.tasks.reorder_drafts_task",
        "schedule": crontab(hour=5, minute=0),
    },
}
