"""``Authorization: Token ck_...`` authenticates as a sales channel."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from inventory.apikeys import ApiKeyAuthentication

from .models import ChannelKey


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


class ChannelKeyAuthentication(ApiKeyAuthentication):
    model = ChannelKey
    select_related = ("channel",)
    failure_message = "Invalid or revoked channel key."

    def usable(self, key: ChannelKey) -> bool:
        return key.channel.active

    def principal(self, key: ChannelKey) -> ChannelPrincipal:
        return ChannelPrincipal(key)


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
