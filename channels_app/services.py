"""Writes for channels and their keys."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inventory.apikeys import key_digest
from inventory.errors import ErrorItem, InvalidInput

from .models import ChannelKey, SalesChannel


@transaction.atomic
def channel_create(*, code: str, name: str, kind: str, currency: str = "USD") -> tuple[SalesChannel, str]:
    """Create a channel with its first key. Returns the channel and the raw key (shown once)."""
    errors = []
    if kind not in SalesChannel.Kind.values:
        errors.append(
            ErrorItem("invalid_choice", f"Kind must be one of {', '.join(SalesChannel.Kind.values)}.", "kind")
        )
    if SalesChannel.objects.filter(code=code).exists():
        errors.append(ErrorItem("unique", f"A channel with code {code!r} already exists.", "code"))
    if errors:
        raise InvalidInput(errors)
    channel = SalesChannel.objects.create(code=code, name=name, kind=kind, currency=currency.upper())
    _, raw = channel_key_create(channel=channel)
    return channel, raw


@transaction.atomic
def channel_key_create(*, channel: SalesChannel, name: str = "default") -> tuple[ChannelKey, str]:
    lookup, raw = ChannelKey.new_raw_key()
    key = ChannelKey.objects.create(channel=channel, name=name, lookup=lookup, digest=key_digest(raw))
    return key, raw


@transaction.atomic
def channel_key_revoke(*, key: ChannelKey) -> ChannelKey:
    key.revoked_at = key.revoked_at or timezone.now()
    key.save(update_fields=["revoked_at"])
    return key
