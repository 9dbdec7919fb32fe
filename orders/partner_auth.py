"""``Authorization: Token pk_...`` authenticates as a fulfilment partner (one 3PL or dropship location)."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import PartnerKey
from .partners import key_digest


class PartnerPrincipal:
    """``request.user`` for a partner key: authenticated, never staff, no Django permissions."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    channel = None

    def __init__(self, key: PartnerKey):
        self.key = key
        self.partner = key.partner
        self.location = key.partner.location
        self.pk = None
        self.username = f"partner:{self.location.code}"

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_perms(self, perms, obj=None) -> bool:
        return False

    def __str__(self) -> str:
        return self.username


def request_partner(request) -> PartnerPrincipal | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, PartnerPrincipal) else None


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].decode(errors="replace") != self.keyword:
            return None
        raw = header[1].decode(errors="replace")
        if not raw.startswith(PartnerKey.PREFIX):
            return None  # a channel key or a staff token: the next class's turn
        lookup = raw[len(PartnerKey.PREFIX) :].split("_", 1)[0]
        key = PartnerKey.objects.select_related("partner__location").filter(lookup=lookup).first()
        if (
            key is None
            or not hmac.compare_digest(key.digest, key_digest(raw))
            or key.revoked_at is not None
            or not key.partner.active
        ):
            raise exceptions.AuthenticationFailed("Invalid or revoked partner key.")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            PartnerKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return PartnerPrincipal(key), key

    def authenticate_header(self, request):
        return self.keyword


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    """Documents partner keys in the OpenAPI schema (same header as staff tokens, a ``pk_`` key)."""

    target_class = PartnerKeyAuthentication
    name = "partnerKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A 3PL or dropship partner's key: `Token pk_...` (from `manage.py create_partner`).",
        }
