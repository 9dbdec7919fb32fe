"""Products, locations, stock per (product, location) and the stock ledger."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django_countries.fields import CountryField


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    barcode = models.CharField(max_length=64, blank=True, db_index=True)
    weight_grams = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gte=0), name="product_cost_not_negative"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"


class Location(models.Model):
    """A place stock ships from: our warehouse, a 3PL's, or a dropship supplier's."""

    class Kind(models.TextChoices):
        OWN = "own", "Own warehouse"
        THIRD_PARTY = "third_party", "Third-party logistics (3PL)"
        DROPSHIP = "dropship", "Dropship supplier"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OWN)
    priority = models.PositiveIntegerField(default=10, help_text="Smaller is preferred: 1 before 5.")
    active = models.BooleanField(default=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = CountryField(blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # The channels a location serves are declared on SalesChannel.locations
    # (channels_app sits above inventory); here they are ``location.channels``.

    class Meta:
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return self.code


class StockItem(models.Model):
    """Stock of one product at one location. ``available = on_hand - reserved``."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_items")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_items")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    bin = models.CharField(max_length=32, blank=True)
    reorder_point = models.PositiveIntegerField(default=0)
    reorder_quantity = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product__sku", "location__code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="stock_one_row_per_product_location"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """The stock ledger: every change of ``on_hand``; their sum is ``on_hand``."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        SHIPMENT = "shipment", "Shipment"
        ADJUSTMENT = "adjustment", "Adjustment"
        RETURN_RESTOCK = "return_restock", "Return restock"
        TRANSFER = "transfer", "Transfer"
        COUNT = "count", "Cycle count"
        SCRAP = "scrap", "Scrap / write-off"

    stock_item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    quantity = models.IntegerField(help_text="Signed change of on hand.")
    reason = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=64, blank=True, help_text="What caused it, e.g. shipment:77.")
    actor = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["stock_item", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} ({self.reference})"
