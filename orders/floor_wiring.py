"""Signal connections of the floor, made once from ``OrdersConfig.ready``."""

from __future__ import annotations

from django.db.models.signals import post_migrate, post_save


def _event_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from . import outbox

        outbox.enqueue_on_commit(instance)


def connect(app_config) -> None:
    from . import handoff, notifications, roles  # noqa: F401 - they register their outbox handlers
    from .models import OrderEvent

    post_save.connect(_event_saved, sender=OrderEvent, dispatch_uid="orders.outbox_enqueue")
    post_migrate.connect(roles.on_post_migrate, sender=app_config, dispatch_uid="orders.ensure_roles")
