"""``Authorization: Token pk_...`` authenticates as a fulfilment partner (one 3PL or dropship location)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from inventory.apikeys import ApiKeyAuthentication

from .models import PartnerKey


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


class PartnerKeyAuthentication(ApiKeyAuthentication):
    model = PartnerKey
    select_related = ("partner__location",)
    failure_message = "Invalid or revoked partner key."

    def usable(self, key: PartnerKey) -> bool:
        return key.partner.active

    def principal(self, key: PartnerKey) -> PartnerPrincipal:
        return PartnerPrincipal(key)


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
