"""Customers, orders, their lines, shipments and the event log (audit trail and outbox)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django_countries.fields import CountryField

from inventory.apikeys import ApiKey
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

    # A foreign key that a composite index or unique constraint starts with gets no index of its own (here
    # and on lines, events, inbound orders): each index is written for every order placed, and the
    # composite one serves the same look-ups.
    channel = models.ForeignKey(  # order_unique_external_id_per_channel
        "channels_app.SalesChannel", on_delete=models.PROTECT, related_name="orders", db_index=False
    )
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
    invoice_due_at = models.DateTimeField(
        null=True, blank=True, help_text="A business order on payment terms (net 30): when its invoice falls due."
    )
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
            # The KPIs (metrics.selectors): the cohort's order-level figures read from the index alone.
            models.Index(
                fields=["placed_at"],
                include=["status", "delivered_at", "promised_delivery_date", "channel", "customer"],
                name="order_kpi_placed_idx",
            ),
            models.Index(
                fields=["channel", "placed_at"],
                include=["status", "delivered_at", "promised_delivery_date"],
                name="order_kpi_channel_placed_idx",
            ),
        ]
        permissions = [("release_hold", "Can release orders on hold")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return human_number(self.NUMBER_PREFIX, self.pk)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)  # (order, product)
    product = models.ForeignKey(  # line_backorder_idx starts with it
        Product, on_delete=models.PROTECT, related_name="order_lines", db_index=False
    )
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
    quantity_cancelled = models.PositiveIntegerField(
        default=0,
        help_text="Units dropped for lack of stock: refused at placement or backorder cancelled "
        "(the channel's backorder policy); not charged.",
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="order_line_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_cancelled__lte=F("quantity")), name="order_line_cancelled_within_quantity"
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_not_negative"),
        ]
        indexes = [
            models.Index(fields=["product", "quantity_backordered"], name="line_backorder_idx"),
            # The KPIs' units and backorders per order, read from the index alone.
            models.Index(
                fields=["order"],
                include=["quantity", "quantity_filled_at_receipt", "quantity_shipped", "quantity_backordered"],
                name="line_kpi_order_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity}"

    @property
    def line_total(self) -> Decimal:
        """What the line charges: cancelled units (no stock, channel policy) are not charged."""
        return self.unit_price * (self.quantity - self.quantity_cancelled)


class OrderEvent(models.Model):
    """One row per thing that happened to an order: audit trail, KPI source and outbox."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", db_index=False)  # (order, at)
    type = models.CharField(max_length=40)
    at = models.DateTimeField()
    actor = models.CharField(max_length=100)
    data = models.JSONField(default=dict, blank=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When the outbox handed it to its handlers (orders.outbox)."
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["order", "at"]),
            models.Index(fields=["type", "at"]),
            models.Index(fields=["id"], condition=Q(dispatched_at__isnull=True), name="event_undispatched_idx"),
        ]

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
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="shipments", db_index=False
    )  # shipment_queue_idx serves it
    fulfillment = models.CharField(max_length=16, choices=Location.Kind.choices)
    status = models.CharField(max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.PENDING)
    carrier = models.CharField(max_length=50, null=True, blank=True)
    tracking_number = models.CharField(max_length=100, null=True, blank=True)
    tracking_url = models.URLField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The floor (orders.picking, orders.packing): the wave and tote it was picked in, the parcel it became.
    pick_list = models.ForeignKey(
        "PickList", on_delete=models.SET_NULL, null=True, blank=True, related_name="shipments"
    )
    tote = models.CharField(max_length=16, blank=True)
    picked_at = models.DateTimeField(null=True, blank=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    length_mm = models.PositiveIntegerField(null=True, blank=True)
    width_mm = models.PositiveIntegerField(null=True, blank=True)
    height_mm = models.PositiveIntegerField(null=True, blank=True)
    service = models.CharField(max_length=50, blank=True, help_text="Carrier service, e.g. Ground.")
    label_url = models.URLField(max_length=500, null=True, blank=True, help_text="A label bought from the carrier.")
    tracking_provider = models.CharField(
        max_length=20, blank=True, help_text="The adapter that tracks it (orders.carriers): manual, easypost."
    )
    carrier_ref = models.CharField(max_length=100, blank=True, help_text="The carrier API's id for the tracker.")
    # Tracking polls (orders.tracking) and the partner handoff (orders.handoff).
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    poll_failures = models.PositiveSmallIntegerField(default=0)
    handed_off_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["location", "status"], name="shipment_queue_idx"),
            models.Index(fields=["status", "next_poll_at"], name="shipment_poll_idx"),
        ]
        permissions = [
            ("pick_shipment", "Can pick shipments"),
            ("pack_shipment", "Can pack shipments"),
            ("ship_shipment", "Can ship shipments"),
            ("deliver_shipment", "Can mark shipments delivered"),
        ]

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


class PickList(models.Model):
    """A wave: pending shipments of one location picked together, one tote each."""

    NUMBER_PREFIX = "PL"

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="pick_lists")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=100)
    lines = models.JSONField(default=list, help_text='[{"sku", "name", "bin", "quantity"}], sorted by bin.')

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return human_number(self.NUMBER_PREFIX, self.pk)


class StationScan(models.Model):
    """One scan at the pick or pack station; refused scans are the caught mis-picks (order accuracy)."""

    class Station(models.TextChoices):
        PICK = "pick", "Pick"
        PACK = "pack", "Pack"

    class Outcome(models.TextChoices):
        OK = "ok", "Accepted"
        WRONG_ITEM = "wrong_item", "Wrong item"
        TOO_MANY = "too_many", "Too many"
        UNKNOWN = "unknown_code", "Unknown code"

    MIS_PICKS = (Outcome.WRONG_ITEM, Outcome.TOO_MANY)

    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="scans", db_index=False
    )  # scan_shipment_station_idx serves it
    station = models.CharField(max_length=8, choices=Station.choices)
    code = models.CharField(max_length=100, help_text="What the scanner read.")
    sku = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    actor = models.CharField(max_length=100)
    at = models.DateTimeField()
    voided = models.BooleanField(default=False, help_text="Cleared by a restart of the scan session.")

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["shipment", "station"], name="scan_shipment_station_idx"),
            models.Index(fields=["outcome", "at"], name="scan_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.code} {self.outcome}"


class TrackingEvent(models.Model):
    """A checkpoint reported by a carrier; stored once (``key``), so a repeated poll changes nothing."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="tracking_events", db_index=False
    )  # tracking_event_once serves it
    key = models.CharField(max_length=64)
    status = models.CharField(max_length=40, help_text="The carrier API's own status word.")
    mapped = models.CharField(max_length=16, blank=True, help_text="in_transit, delivered, exception or empty.")
    at = models.DateTimeField()
    message = models.CharField(max_length=500, blank=True)
    location = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["shipment", "key"], name="tracking_event_once")]

    def __str__(self) -> str:
        return f"{self.status} @ {self.at:%Y-%m-%d %H:%M}"


class FulfilmentPartner(models.Model):
    """The 3PL or dropship supplier behind a location, and how we hand shipments to it."""

    location = models.OneToOneField(Location, on_delete=models.CASCADE, related_name="partner")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, help_text="Dropship: purchase orders are e-mailed here.")
    endpoint_url = models.URLField(blank=True, help_text="3PL: shipment requests are POSTed here as JSON.")
    endpoint_token = models.CharField(max_length=200, blank=True, help_text="Sent as a Bearer token.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerKey(ApiKey):
    """An API key acting as one partner location. Only its digest is stored; the key is shown once."""

    PREFIX = "pk_"

    partner = models.ForeignKey(FulfilmentPartner, on_delete=models.CASCADE, related_name="keys")

    class Meta:
        ordering = ["partner__name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.partner.name}:{self.lookup}…"
