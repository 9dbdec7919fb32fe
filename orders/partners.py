"""Fulfilment partners (3PL, dropship) and their API keys."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inventory.apikeys import key_digest
from inventory.errors import ErrorItem, InvalidInput
from inventory.models import Location

from .models import FulfilmentPartner, PartnerKey


@transaction.atomic
def partner_save(
    *, location: Location, name: str, email: str = "", endpoint_url: str = "", endpoint_token: str = ""
) -> FulfilmentPartner:
    if location.kind not in (Location.Kind.THIRD_PARTY, Location.Kind.DROPSHIP):
        raise InvalidInput(
            [ErrorItem("not_partner_location", f"{location.code} is our own warehouse, not a partner's.", "location")]
        )
    partner, _ = FulfilmentPartner.objects.update_or_create(
        location=location,
        defaults={"name": name, "email": email, "endpoint_url": endpoint_url, "endpoint_token": endpoint_token},
    )
    return partner


@transaction.atomic
def partner_key_create(*, partner: FulfilmentPartner, name: str = "default") -> tuple[PartnerKey, str]:
    """A new key; the raw key is returned once and never stored."""
    lookup, raw = PartnerKey.new_raw_key()
    key = PartnerKey.objects.create(partner=partner, name=name, lookup=lookup, digest=key_digest(raw))
    return key, raw


def partner_key_revoke(*, key: PartnerKey) -> PartnerKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key
