"""Reads of channels_app used by the API, the admin and commands."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import InboundOrder, SalesChannel


def inbound_list(*, channel: SalesChannel | None = None) -> QuerySet[InboundOrder]:
    """Staged payloads, newest first; a channel sees only its own. One query a page."""
    qs = InboundOrder.objects.select_related("channel")
    return qs.filter(channel=channel) if channel is not None else qs
