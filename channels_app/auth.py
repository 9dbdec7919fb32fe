"""``Authorization: Token ck_...`` authenticates as a sales channel."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import ChannelKey, key_digest


class ChannelPrincipal:
    """``request.user`` for a channel key: authenticated, never staff, no Django permissions."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False

    def __init__(self, key: ChannelKey):
        self.key = key
        self.channel = key.channel
        self.pk = None
        self.username = f"channel:{key.channel.code}"

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_perms(self, perms, obj=None) -> bool:
        return False

    def __str__(self) -> str:
        return self.username


class ChannelKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].decode(errors="replace").lower() != self.keyword.lower():
            return None
        raw = header[1].decode(errors="replace")
        if not raw.startswith(ChannelKey.PREFIX):
            return None  # a staff token: TokenAuthentication's turn
        lookup = raw[len(ChannelKey.PREFIX) :].split("_", 1)[0]
        key = ChannelKey.objects.select_related("channel").filter(lookup=lookup).first()
        if (
            key is None
            or not hmac.compare_digest(key.digest, key_digest(raw))
            or key.revoked_at is not None
            or not key.channel.active
        ):
            raise exceptions.AuthenticationFailed("Invalid or revoked channel key.")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            # Coarse on purpose: one write a minute per key, not one per request.
            ChannelKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return ChannelPrincipal(key), key

    def authenticate_header(self, request):
        return self.keyword


class ChannelKeyScheme(OpenApiAuthenticationExtension):
    """Documents channel keys in the OpenAPI schema (same header as staff tokens, a ``ck_`` key)."""

    target_class = ChannelKeyAuthentication
    name = "channelKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A sales channel's key: `Token ck_...` (from `manage.py create_channel`).",
        }
