"""The Celery app and its beat schedule, in one place."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job of the system is listed here; the tasks themselves live in
# each app's tasks.py and are idempotent, so a missed or doubled beat is harmless.
app.conf.beat_schedule = {
    "allocate-backorders": {
        "task": "orders.tasks.backorders_allocate_all",
        "schedule": crontab(minute="*/15"),
    },
}
