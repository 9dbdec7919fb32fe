"""API keys kept only as digests: what channel keys, partner keys and staff tokens share.

A key is ``<PREFIX><lookup>_<secret>``. The lookup is public and indexed, so
finding the row costs one query; the whole key's SHA-256 is what is stored,
and it is compared in constant time. The raw key is returned once, when it is
made, and never stored.

This lives in the lowest app because every app's API authenticates with these
keys (channel keys in channels_app, partner keys in orders, staff tokens here).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models.constants import LOOKUP_SEP
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from . import bulk

# How often last_used_at is written: coarse on purpose, one write a minute per key, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_digest(raw_key: str) -> str:
    """Keys are long random strings, so one SHA-256 is enough to store them safely."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(models.Model):
    """An API key's stored half: a public lookup, the digest, and when it was made, used and revoked."""

    PREFIX: ClassVar[str] = ""

    name = models.CharField(max_length=100, default="default")
    lookup = models.CharField(max_length=16, unique=True, help_text="Public first characters of the key.")
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @classmethod
    def new_raw_key(cls) -> tuple[str, str]:
        """A fresh (lookup, raw key) pair; only the caller ever sees the raw key."""
        lookup = secrets.token_hex(6)
        return lookup, f"{cls.PREFIX}{lookup}_{secrets.token_urlsafe(32)}"

    @classmethod
    def lookup_of(cls, raw: str) -> str | None:
        """The lookup part of a raw key of this kind, or None when the key is another kind."""
        if not raw.startswith(cls.PREFIX):
            return None
        return raw[len(cls.PREFIX) :].split("_", 1)[0]

    def matches(self, raw: str) -> bool:
        return hmac.compare_digest(self.digest, key_digest(raw))

    def touch(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at > LAST_USED_RESOLUTION:
            type(self).objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>`` for one kind of key; another kind's key is the next class's turn.

    Subclasses name the ``model``, what to ``select_related``, whether the key's owner is still
    ``usable`` and the ``principal`` that becomes ``request.user``.
    """

    keyword = "Token"
    model: type[ApiKey]
    select_related: tuple[str, ...] = ()
    failure_message = "Invalid or revoked key."

    def principal(self, key: ApiKey):
        raise NotImplementedError

    def usable(self, key: ApiKey) -> bool:
        return True

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].decode(errors="replace").lower() != self.keyword.lower():
            return None
        raw = header[1].decode(errors="replace")
        lookup = self.model.lookup_of(raw)
        if lookup is None:
            return None
        key = self.find(lookup)
        # One answer for an unknown, wrong, revoked or disabled key: nothing tells them apart.
        if key is None or not key.matches(raw) or key.revoked_at is not None or not self.usable(key):
            raise exceptions.AuthenticationFailed(self.failure_message)
        key.touch()
        return self.principal(key), key

    def authenticate_header(self, request):
        return self.keyword

    def find(self, lookup: str) -> ApiKey | None:
        """The key with this lookup, with its ``select_related`` rows: one query.

        Relations one step away are joined in SQL written out (every API request asks this; composing
        the ORM's join cost more CPU than the query), sent as a batch so PostgreSQL prepares it once per
        connection (planning it cost more than running it); deeper ones go through the ORM.
        """
        if any(LOOKUP_SEP in name for name in self.select_related):
            return self.model.objects.select_related(*self.select_related).filter(lookup=lookup).first()
        alias = router.db_for_read(self.model)
        sql, joined = _find_sql(self.model, tuple(self.select_related), alias)
        (rows,) = bulk.fetch_together(alias, (sql, [lookup]))  # prepared once per connection on PostgreSQL
        if not rows:
            return None
        row, start = rows[0], len(self.model._meta.concrete_fields)
        (key,) = bulk.instances(self.model, [row[:start]], alias)
        for name, related in joined:  # then each joined row's columns, in _find_sql's order
            end = start + len(related._meta.concrete_fields)
            setattr(key, name, _instance(related, alias, list(row[start:end])))
            start = end
        return key


@functools.cache
def _find_sql(model: type[ApiKey], names: tuple[str, ...], alias: str) -> tuple[str, list[tuple[str, type]]]:
    """``find``'s statement and the relations it joins (the text only: it depends on the models, not on rows)."""
    quote = connections[alias].ops.quote_name
    meta = model._meta
    columns = [f"k.{quote(f.column)}" for f in meta.concrete_fields]
    joins, joined = [], []
    for n, name in enumerate(names):
        field = meta.get_field(name)
        related = field.related_model
        table = f"r{n}"
        columns += [f"{table}.{quote(f.column)} AS _{name}_{i}" for i, f in enumerate(related._meta.concrete_fields)]
        joins.append(
            f"LEFT JOIN {quote(related._meta.db_table)} {table} "
            f"ON {table}.{quote(field.target_field.column)} = k.{quote(field.column)}"
        )
        joined.append((name, related))
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(meta.db_table)} k {' '.join(joins)} "
        f"WHERE k.{quote(meta.get_field('lookup').column)} = %s"
    )
    return sql, joined


def _instance(model: type[models.Model], alias: str, values: list):
    """A row of ``model`` read as the ORM reads it (each column through its converters); None for no row."""
    fields = model._meta.concrete_fields
    if values[fields.index(model._meta.pk)] is None:
        return None
    connection = connections[alias]
    converted = []
    for field, value in zip(fields, values, strict=True):
        column = field.get_col(model._meta.db_table)
        for convert in connection.ops.get_db_converters(column) + field.get_db_converters(connection):
            value = convert(value, column, connection)
        converted.append(value)
    return model.from_db(alias, [f.attname for f in fields], converted)


# --- Staff tokens: a Django user's API token -------------------------------------------------------

# Tokens made by DRF's authtoken before staff tokens were hashed: 40 hex characters, no prefix.
LEGACY_TOKEN = re.compile(r"[0-9a-f]{40}")
LEGACY_LOOKUP_LENGTH = 12


class StaffToken(ApiKey):
    """A staff user's API token (``st_...``); what it may do follows the user's permissions."""

    PREFIX = "st_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")

    class Meta:
        ordering = ["user__username", "-created_at"]

    def __str__(self) -> str:
        return f"{self.user}:{self.lookup}…"

    @classmethod
    def lookup_of(cls, raw: str) -> str | None:
        if LEGACY_TOKEN.fullmatch(raw):
            return raw[:LEGACY_LOOKUP_LENGTH]  # hashed by migration inventory 0005, still accepted
        return super().lookup_of(raw)


@transaction.atomic
def staff_token_create(*, user, name: str = "default") -> tuple[StaffToken, str]:
    """A new token for ``user``; the raw token is returned once and never stored."""
    lookup, raw = StaffToken.new_raw_key()
    token = StaffToken.objects.create(user=user, name=name, lookup=lookup, digest=key_digest(raw))
    return token, raw


@transaction.atomic
def staff_tokens_revoke(*, user) -> int:
    """Revoke every live token of ``user``; returns how many."""
    return StaffToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


class StaffTokenAuthentication(ApiKeyAuthentication):
    model = StaffToken
    select_related = ("user",)
    failure_message = "Invalid or revoked token."

    def usable(self, key: StaffToken) -> bool:
        return key.user.is_active

    def principal(self, key: StaffToken):
        return key.user


class StaffTokenScheme(OpenApiAuthenticationExtension):
    """Documents staff tokens in the OpenAPI schema."""

    target_class = StaffTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A staff user's token: `Token st_...` (from `manage.py drf_create_token USER`).",
        }
