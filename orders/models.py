"""Customers, orders, their lines, shipments and the event log (audit trail and outbox)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from inventory.models import Location, Product


def human_number(prefix: str, pk: int | None) -> str:
    """``SO-000123``: the primary key's sequence, never ``count()``."""
    return f"{prefix}-{pk:06d}" if pk else ""


def pk_from_number(prefix: str, number: str) -> int | None:
    head, _, digits = number.strip().upper().partition("-")
    if head != prefix or not digits.isdigit():
        return None
    return int(digits)


class Customer(models.Model):
    class Kind(models.TextChoices):
        CONSUMER = "consumer", "Consumer (B2C)"
        BUSINESS = "business", "Business (B2B)"

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CONSUMER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    RECEIVED = "received", "Received"
    ON_HOLD = "on_hold", "On hold"
    BACKORDERED = "backordered", "Backordered"
    PICKED = "picked", "Picked"
    PACKED = "packed", "Packed"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


class Order(models.Model):
    NUMBER_PREFIX = "SO"
    Status = OrderStatus

    class PaymentStatus(models.TextChoices):
        PAID = "paid", "Paid"
        PENDING = "pending", "Pending"

    channel = models.ForeignKey("channels_app.SalesChannel", on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=64)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    hold_reason = models.CharField(max_length=32, blank=True)
    placed_at = models.DateTimeField()
    received_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    promised_delivery_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    ship_name = models.CharField(max_length=200)
    ship_line1 = models.CharField(max_length=200)
    ship_line2 = models.CharField(max_length=200, blank=True)
    ship_city = models.CharField(max_length=100)
    ship_region = models.CharField(max_length=100, blank=True)
    ship_postal_code = models.CharField(max_length=20)
    ship_country = CountryField()
    shipping_method = models.CharField(max_length=50, blank=True)
    payment_status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PAID)
    notes = models.TextField(blank=True)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    shipping_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    tax_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    fingerprint = models.CharField(max_length=64, help_text="Digest of the payload, for safe retries.")

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="order_unique_external_id_per_channel"),
        ]
        indexes = [
            models.Index(fields=["-placed_at", "-id"], name="order_placed_idx"),
            models.Index(fields=["status", "placed_at"], name="order_status_placed_idx"),
            models.Index(fields=["updated_at"], name="order_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return human_number(self.NUMBER_PREFIX, self.pk)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity_reserved = models.PositiveIntegerField(default=0, help_text="Reserved and not yet shipped.")
    quantity_backordered = models.PositiveIntegerField(default=0)
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_returned = models.PositiveIntegerField(default=0)
    quantity_filled_at_receipt = models.PositiveIntegerField(
        default=0, help_text="Units reserved when the order was received (fill-rate KPI)."
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="order_line_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_not_negative"),
        ]
        indexes = [models.Index(fields=["product", "quantity_backordered"], name="line_backorder_idx")]

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderEvent(models.Model):
    """One row per thing that happened to an order: audit trail, KPI source and outbox."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40)
    at = models.DateTimeField()
    actor = models.CharField(max_length=100)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"]), models.Index(fields=["type", "at"])]

    def __str__(self) -> str:
        return f"{self.type} @ {self.at:%Y-%m-%d %H:%M}"


class ShipmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PICKING = "picking", "Picking"
    PICKED = "picked", "Picked"
    PACKED = "packed", "Packed"
    SHIPPED = "shipped", "Shipped"
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"
    EXCEPTION = "exception", "Exception"
    CANCELLED = "cancelled", "Cancelled"


class Shipment(models.Model):
    """Units of an order leaving one location together. Its lines are the order's reservations."""

    NUMBER_PREFIX = "SH"
    Status = ShipmentStatus
    OPEN_STATUSES = (
        ShipmentStatus.PENDING,
        ShipmentStatus.PICKING,
        ShipmentStatus.PICKED,
        ShipmentStatus.PACKED,
    )

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="shipments")
    fulfillment = models.CharField(max_length=16, choices=Location.Kind.choices)
    status = models.CharField(max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.PENDING)
    carrier = models.CharField(max_length=50, null=True, blank=True)
    tracking_number = models.CharField(max_length=100, null=True, blank=True)
    tracking_url = models.URLField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["location", "status"], name="shipment_queue_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return human_number(self.NUMBER_PREFIX, self.pk)


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="shipment_lines")
    stock_item = models.ForeignKey("inventory.StockItem", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["shipment", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="shipment_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.order_line.sku} x{self.quantity}"
