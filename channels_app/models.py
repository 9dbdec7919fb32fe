"""Sales channels and the API keys they call us with."""

from __future__ import annotations

import hashlib

from django.db import models


class SalesChannel(models.Model):
    class Kind(models.TextChoices):
        WEB_STORE = "web_store", "Web store"
        MARKETPLACE = "marketplace", "Marketplace"
        PHONE = "phone", "Phone"
        IN_STORE = "in_store", "In store"
        WHOLESALE = "wholesale", "Wholesale (B2B)"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    currency = models.CharField(max_length=3, default="USD")
    active = models.BooleanField(default=True)
    locations = models.ManyToManyField(
        "inventory.Location",
        related_name="channels",
        blank=True,
        help_text="Locations that may fulfil this channel's orders.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


def key_digest(raw_key: str) -> str:
    """Keys are long random strings, so one SHA-256 is enough to store them safely."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ChannelKey(models.Model):
    """An API key acting as one channel. Only its digest is stored; the key is shown once."""

    PREFIX = "ck_"

    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="keys")
    name = models.CharField(max_length=100, default="default")
    lookup = models.CharField(max_length=16, unique=True, help_text="Public first characters of the key.")
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["channel__code", "-created_at"]

    def __str__(self) -> str:
        return f"{self.channel.code}:{self.lookup}…"
