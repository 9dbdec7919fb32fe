"""Products, locations, stock per (product, location) and the stock ledger."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django_countries.fields import CountryField

from .apikeys import StaffToken  # noqa: F401  (a model of this app: staff API tokens, hashed)


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
    daily_shipment_capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="New shipments this location can take per day (UTC); empty: no limit."
    )
    # The channels a location serves are declared on SalesChannel.locations
    # (channels_app sits above inventory); here they are ``location.channels``.

    class Meta:
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return self.code


class StockItem(models.Model):
    """Stock of one product at one location. ``available = on_hand - reserved``."""

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="stock_items", db_index=False
    )  # stock_one_row_per_product_location serves it
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_items")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    bin = models.CharField(max_length=32, blank=True)
    reorder_point = models.PositiveIntegerField(default=0)
    reorder_quantity = models.PositiveIntegerField(default=0)
    max_stock = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most units this location should hold; on hand above it is overstock. Empty: no maximum.",
    )
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

    stock_item = models.ForeignKey(
        StockItem, on_delete=models.PROTECT, related_name="movements", db_index=False
    )  # inventory_s_stock_i_c40196_idx serves it
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


class ChannelStockRule(models.Model):
    """Safety stock: a channel does not sell the last ``safety_stock`` units of a location.

    ``location`` empty means every location the channel sells from. The channel
    is a string reference (channels_app sits above inventory).
    """

    channel = models.ForeignKey(
        "channels_app.SalesChannel", on_delete=models.CASCADE, related_name="stock_rules", db_index=False
    )  # channel_stock_rule_unique serves it
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="channel_rules", null=True, blank=True
    )
    safety_stock = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["channel", "location"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "location"], name="channel_stock_rule_unique"),
            models.UniqueConstraint(
                fields=["channel"], condition=Q(location__isnull=True), name="channel_stock_rule_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}@{self.location_id or '*'}: keep {self.safety_stock}"


class Supplier(models.Model):
    name = models.CharField(max_length=200, unique=True)
    email = models.EmailField()
    lead_time_days = models.PositiveIntegerField(default=7, help_text="Promised days from sending to receipt.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SupplierProduct(models.Model):
    """What a supplier sells us: its own SKU for our product, and the cost."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="products", db_index=False
    )  # supplier_product_unique serves it
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="supplier_products")
    supplier_sku = models.CharField(max_length=64, blank=True)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2)
    preferred = models.BooleanField(default=False, help_text="Reorder drafts go to the preferred supplier first.")

    class Meta:
        ordering = ["product", "-preferred", "unit_cost"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product"], name="supplier_product_unique"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="supplier_product_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id}:{self.supplier_sku or self.product_id}"


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    PARTIALLY_RECEIVED = "partially_received", "Partially received"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


class PurchaseOrder(models.Model):
    NUMBER_PREFIX = "PO"
    Status = PurchaseOrderStatus

    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="purchase_orders", db_index=False
    )  # po_supplier_status_idx serves it
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="purchase_orders")
    status = models.CharField(max_length=20, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.DRAFT)
    expected_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True, help_text="When the last unit came in.")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    lead_time_days = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, help_text="Real lead time: sent to fully received."
    )
    on_time = models.BooleanField(null=True, blank=True, help_text="Fully received on or before expected_on.")
    recurring = models.ForeignKey(
        "RecurringPurchaseOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="purchase_orders",
        help_text="The template this draft came from.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["supplier", "status"], name="po_supplier_status_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"{self.NUMBER_PREFIX}-{self.pk:06d}" if self.pk else ""


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines", db_index=False
    )  # po_line_one_per_product serves it
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="purchase_order_lines")
    quantity = models.PositiveIntegerField()
    quantity_received = models.PositiveIntegerField(default=0)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["purchase_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "product"], name="po_line_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="po_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity")), name="po_line_received_within_ordered"
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="po_line_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} x{self.quantity}"

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_received


class PurchaseOrderEvent(models.Model):
    """The purchase order's audit trail: every transition and every receipt."""

    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40)
    at = models.DateTimeField()
    actor = models.CharField(max_length=100)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.type} @ {self.at:%Y-%m-%d %H:%M}"


class RecurringPurchaseOrder(models.Model):
    """A purchase-order template drafted again every ``interval_days`` (standing orders with a supplier)."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="recurring_orders")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="recurring_orders")
    interval_days = models.PositiveIntegerField()
    next_run_on = models.DateField(help_text="The next day a draft is made.")
    active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["next_run_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(interval_days__gte=1), name="recurring_po_interval_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id} every {self.interval_days}d"


class RecurringPurchaseOrderLine(models.Model):
    template = models.ForeignKey(
        RecurringPurchaseOrder, on_delete=models.CASCADE, related_name="lines", db_index=False
    )  # recurring_po_line_one_per_product serves it
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["template", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "product"], name="recurring_po_line_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="recurring_po_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} x{self.quantity}"
