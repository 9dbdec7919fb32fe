"""Return requests (RMA), what came back and what became of it, refunds and store credit."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from inventory.models import Location, Product, StockMovement
from orders.models import Customer, Order, OrderLine, human_number


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    RECEIVED = "received", "Received"
    CLOSED = "closed", "Closed"
    REJECTED = "rejected", "Rejected"


class ReturnReason(models.TextChoices):
    DAMAGED = "damaged", "Damaged"
    DEFECTIVE = "defective", "Defective"
    WRONG_ITEM = "wrong_item", "Wrong item"
    MISSING_ITEM = "missing_item", "Missing item"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    NO_LONGER_NEEDED = "no_longer_needed", "No longer needed"
    OTHER = "other", "Other"


class Resolution(models.TextChoices):
    REFUND = "refund", "Refund"
    STORE_CREDIT = "store_credit", "Store credit"


class Disposition(models.TextChoices):
    RESTOCK = "restock", "Restock"
    SCRAP = "scrap", "Scrap"


class Return(models.Model):
    """An RMA: units of one order coming back, and how the customer is made whole."""

    NUMBER_PREFIX = "RMA"
    Status = ReturnStatus

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=16, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, default=Resolution.REFUND)
    note = models.TextField(blank=True)
    requested_by = models.CharField(max_length=100, blank=True)
    requested_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    refund_amount = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Refunded or credited when closed."
    )
    exchange_order = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exchange_for",
        help_text="The order placed for the replacement lines when the return was approved.",
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "requested_at"], name="return_status_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return human_number(self.NUMBER_PREFIX, self.pk)

    @property
    def currency(self) -> str:
        return self.order.currency


class ReturnLine(models.Model):
    """Units of one order line on a return; the counters say what arrived and where it went."""

    return_request = models.ForeignKey(
        Return, on_delete=models.CASCADE, related_name="lines", db_index=False
    )  # return_line_one_per_order_line serves it
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    sku = models.CharField(max_length=64)
    quantity_requested = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField(
        help_text="Units on the return: as requested, then what actually arrived once received."
    )
    reason = models.CharField(max_length=20, choices=ReturnReason.choices)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, help_text="What the customer paid per unit.")
    quantity_received = models.PositiveIntegerField(default=0)
    quantity_restocked = models.PositiveIntegerField(default=0)
    quantity_scrapped = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["return_request", "id"]
        constraints = [
            models.UniqueConstraint(fields=["return_request", "order_line"], name="return_line_one_per_order_line"),
            models.CheckConstraint(condition=Q(quantity_requested__gte=1), name="return_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity__lte=F("quantity_requested")), name="return_line_quantity_within_requested"
            ),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity")), name="return_line_received_within_quantity"
            ),
            models.CheckConstraint(
                condition=Q(quantity_received=F("quantity_restocked") + F("quantity_scrapped")),
                name="return_line_every_received_unit_disposed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity} ({self.reason})"

    @property
    def value(self) -> Decimal:
        """What the customer paid for the units on this line."""
        return self.unit_price * self.quantity

    @property
    def received_value(self) -> Decimal:
        return self.unit_price * self.quantity_received


class ReturnReceipt(models.Model):
    """Units of a return line as they were received: restocked (with its movement) or scrapped at cost."""

    return_line = models.ForeignKey(ReturnLine, on_delete=models.CASCADE, related_name="receipts")
    disposition = models.CharField(max_length=10, choices=Disposition.choices)
    quantity = models.PositiveIntegerField()
    condition = models.CharField(max_length=200, blank=True, help_text="What the inspector saw.")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="Where it was restocked."
    )
    unit_cost = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="The product's cost when received: the write-off value of a scrap."
    )
    stock_movement = models.OneToOneField(
        StockMovement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField()
    actor = models.CharField(max_length=100)

    class Meta:
        ordering = ["return_line", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="return_receipt_quantity_positive"),
            models.CheckConstraint(
                condition=Q(disposition="scrap") | Q(location__isnull=False),
                name="return_receipt_restock_has_location",
            ),
        ]
        indexes = [models.Index(fields=["disposition", "received_at"], name="return_receipt_kind_idx")]

    def __str__(self) -> str:
        return f"{self.disposition} {self.quantity}"

    @property
    def write_off_value(self) -> Decimal:
        """Cost written off: scrapped units at cost; restocked units are not a loss."""
        return self.unit_cost * self.quantity if self.disposition == Disposition.SCRAP else Decimal("0.00")


class ReplacementLine(models.Model):
    """An exchange: what the customer wants instead. Approving places an order for these."""

    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="replacement_lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="List price when requested; deducted from the refund."
    )

    class Meta:
        ordering = ["return_request", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="replacement_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity}"

    @property
    def value(self) -> Decimal:
        return self.unit_price * self.quantity


class Refund(models.Model):
    """Money paid back for a return."""

    class Method(models.TextChoices):
        ORIGINAL_PAYMENT = "original_payment", "Original payment method"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CASH = "cash", "Cash"
        OTHER = "other", "Other"

    return_request = models.ForeignKey(Return, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.ORIGINAL_PAYMENT)
    reference = models.CharField(max_length=100, blank=True, help_text="The payment provider's refund id.")
    created_at = models.DateTimeField()
    actor = models.CharField(max_length=100)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class StoreCreditEntry(models.Model):
    """The store-credit ledger: the balance of a customer is the sum of their entries per currency."""

    class Cause(models.TextChoices):
        RETURN = "return", "Return credited"
        REDEMPTION = "redemption", "Spent on an order"
        ADJUSTMENT = "adjustment", "Manual adjustment"

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="store_credit_entries", db_index=False
    )  # store_credit_customer_idx serves it
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Signed: credit positive, spend negative.")
    currency = models.CharField(max_length=3)
    cause = models.CharField(max_length=16, choices=Cause.choices)
    return_request = models.ForeignKey(
        Return, on_delete=models.PROTECT, null=True, blank=True, related_name="store_credit_entries"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    actor = models.CharField(max_length=100)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "store credit entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="store_credit_amount_not_zero"),
            models.CheckConstraint(
                condition=~Q(cause="return") | Q(return_request__isnull=False), name="store_credit_return_has_return"
            ),
        ]
        indexes = [models.Index(fields=["customer", "currency"], name="store_credit_customer_idx")]

    def __str__(self) -> str:
        return f"{self.amount:+} {self.currency} ({self.cause})"


class ReturnPolicy(models.Model):
    """A channel's return window; channels without one use ``settings.RETURN_WINDOW_DAYS`` (30)."""

    channel = models.OneToOneField("channels_app.SalesChannel", on_delete=models.CASCADE, related_name="return_policy")
    window_days = models.PositiveIntegerField(help_text="Days after delivery a return may be requested.")

    class Meta:
        verbose_name_plural = "return policies"

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.window_days} days"


class ReturnNotification(models.Model):
    """One customer e-mail per (return, kind): the task that sends it checks here, so a re-run is a no-op."""

    class Kind(models.TextChoices):
        APPROVED = "approved", "Return approved"
        RECEIVED = "received", "Return received"
        REFUNDED = "refunded", "Refund or credit issued"

    return_request = models.ForeignKey(
        Return, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )  # return_notification_once serves it
    kind = models.CharField(max_length=16, choices=Kind.choices)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipient = models.EmailField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["return_request", "kind"], name="return_notification_once")]

    def __str__(self) -> str:
        return f"{self.return_request_id}:{self.kind}"
