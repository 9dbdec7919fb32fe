"""Sales channels and the API keys they call us with."""

from __future__ import annotations

from django.db import models

from inventory.apikeys import ApiKey, key_digest  # noqa: F401  (key_digest is imported from here too)

# Payment terms as the business names them; the value is the days an invoice has (0: due on placement).
PAYMENT_TERMS = [(0, "Prepaid"), (15, "Net 15"), (30, "Net 30"), (45, "Net 45"), (60, "Net 60")]


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
    # Terms (channels_app.terms): what a line sent without a price costs, and when a business pays.
    price_list = models.ForeignKey(
        "PriceList",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="channels",
        help_text="Prices for lines sent without a unit price (after the customer's own list).",
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=PAYMENT_TERMS,
        help_text="Business orders pay this many days after placement (30 = net 30). Empty: prepaid.",
    )

    class BackorderPolicy(models.TextChoices):
        ALLOW = "allow", "Allow: backorder what stock cannot cover"
        REJECT = "reject", "Reject: refuse the units stock cannot cover at placement"
        CANCEL_AFTER_DAYS = "cancel_after_days", "Cancel backorders still waiting after N days"

    # Backorders (orders.services): what happens to units no stock covers when the order is placed.
    backorder_policy = models.CharField(
        max_length=20,
        choices=BackorderPolicy.choices,
        default=BackorderPolicy.ALLOW,
        help_text="What happens to ordered units no stock covers at placement.",
    )
    backorder_cancel_after_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="With 'cancel after N days': backorders still waiting this many days after placement are cancelled.",
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(backorder_policy="cancel_after_days")
                | models.Q(backorder_cancel_after_days__isnull=False, backorder_cancel_after_days__gte=1),
                name="backorder_cancel_needs_days",
                violation_error_message="Cancelling backorders after N days needs N (1 or more days).",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class ChannelKey(ApiKey):
    """An API key acting as one channel. Only its digest is stored; the key is shown once."""

    PREFIX = "ck_"

    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="keys")

    class Meta:
        ordering = ["channel__code", "-created_at"]

    def __str__(self) -> str:
        return f"{self.channel.code}:{self.lookup}…"


class InboundOrder(models.Model):
    """A payload exactly as a channel sent it, stored before anything parses it.

    Nothing a channel sends is lost: a payload that fails to parse or to place
    stays here ``failed`` with its error, and can be fixed and replayed.
    """

    class WayIn(models.TextChoices):
        API = "api", "API push"
        FILE = "file", "File import"
        PULL = "pull", "Connector pull"
        MANUAL = "manual", "Manual"

    class Format(models.TextChoices):
        API = "api", "OMS API (API.md)"
        CSV = "csv", "CSV rows"
        SHOPIFY = "shopify", "Shopify Admin REST order"
        WOOCOMMERCE = "woocommerce", "WooCommerce REST v3 order"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        IMPORTED = "imported", "Imported"
        DUPLICATE = "duplicate", "Duplicate"
        FAILED = "failed", "Failed"

    channel = models.ForeignKey(  # no index of its own: the composite indexes below start with it
        SalesChannel, on_delete=models.PROTECT, related_name="inbound_orders", db_index=False
    )
    way_in = models.CharField(max_length=8, choices=WayIn.choices)
    format = models.CharField(max_length=16, choices=Format.choices)
    external_id = models.CharField(max_length=255, blank=True, help_text="As read from the payload; may be blank.")
    payload = models.JSONField()
    digest = models.CharField(max_length=64, help_text="SHA-256 of the payload, to recognise the same file twice.")
    source = models.CharField(max_length=255, blank=True, help_text="File name, connector or API caller.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="[{code, detail, attr}] of the last failure.")
    attempts = models.PositiveIntegerField(default=0)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_payloads"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["channel", "status", "-id"], name="inbound_channel_status_idx"),
            models.Index(fields=["status", "-id"], name="inbound_status_idx"),
            models.Index(fields=["channel", "external_id"], name="inbound_external_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.external_id or '?'} ({self.status})"


class WebhookEndpoint(models.Model):
    """A URL of a channel's that wants to hear about some events (``order.*`` style patterns)."""

    channel = models.ForeignKey(SalesChannel, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    events = models.JSONField(
        default=list, help_text='Event names or patterns, e.g. ["order.received", "shipment.*", "return.*"].'
    )
    secret = models.CharField(max_length=128, help_text="HMAC-SHA256 key signing each body (X-OMS-Signature).")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel__code", "id"]

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.url}"

    def wants(self, event_type: str) -> bool:
        for pattern in self.events:
            if pattern == event_type or pattern == "*":
                return True
            if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
                return True
        return False


class WebhookMessage(models.Model):
    """One event for one endpoint: sent until the receiver says 2xx, at most once per source event."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="messages", db_index=False
    )  # webhook_once_per_event serves it
    event_id = models.UUIDField(unique=True, help_text="Sent as X-OMS-Event-Id so the receiver can dedupe.")
    source_event_id = models.BigIntegerField(help_text="The orders.OrderEvent row this message tells about.")
    event_type = models.CharField(max_length=60)
    body = models.TextField(help_text="The exact JSON bytes signed and sent.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "source_event_id"], name="webhook_once_per_event"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.endpoint_id} ({self.status})"


class WebhookDelivery(models.Model):
    """One attempt to deliver a message: what the receiver answered, or why it could not."""

    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"#{self.attempt} {self.status_code or self.error[:40]}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class ChannelConnector(models.Model):
    """How we pull a marketplace's orders and push tracking back (one per channel)."""

    class Kind(models.TextChoices):
        SHOPIFY = "shopify", "Shopify Admin REST"
        WOOCOMMERCE = "woocommerce", "WooCommerce REST v3"

    channel = models.OneToOneField(SalesChannel, on_delete=models.CASCADE, related_name="connector")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    base_url = models.URLField(max_length=300)
    token = models.CharField(max_length=300, help_text="Shopify access token or WooCommerce consumer key.")
    secret = models.CharField(max_length=300, blank=True, help_text="WooCommerce consumer secret.")
    api_version = models.CharField(max_length=20, default="2024-10", help_text="Shopify Admin API version.")
    enabled = models.BooleanField(default=True)
    cursor = models.DateTimeField(null=True, blank=True, help_text="Orders updated after this were not pulled yet.")
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.kind}"


class ConnectorShipmentPush(models.Model):
    """Tracking pushed back to a connected channel, once per shipment."""

    connector = models.ForeignKey(ChannelConnector, on_delete=models.CASCADE, related_name="pushes")
    shipment = models.OneToOneField("orders.Shipment", on_delete=models.CASCADE, related_name="+")
    pushed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.connector_id}: shipment {self.shipment_id}"


class PriceList(models.Model):
    """Unit prices for some products, used for lines a channel sends without a price (B2B lists, wholesale).

    A channel and a business customer may each name one; the customer's wins.
    Its prices are in ``currency``; orders priced from it are expected in that currency.
    """

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="USD")
    active = models.BooleanField(default=True, help_text="An inactive list prices nothing.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class PriceListItem(models.Model):
    """One price of a product on a list, from ``min_quantity`` units up (quantity breaks)."""

    price_list = models.ForeignKey(
        PriceList, on_delete=models.CASCADE, related_name="items", db_index=False
    )  # price_once_per_break serves it
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.CASCADE, related_name="+", db_index=False
    )  # price_lookup_idx serves it
    min_quantity = models.PositiveIntegerField(default=1, help_text="This price applies from this many units up.")
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["price_list", "product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product", "min_quantity"], name="price_once_per_break"),
            models.CheckConstraint(condition=models.Q(min_quantity__gte=1), name="price_break_at_least_one"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="price_not_negative"),
        ]
        indexes = [models.Index(fields=["product", "price_list", "min_quantity"], name="price_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.price_list_id}: {self.product_id} from {self.min_quantity} @ {self.unit_price}"


class CustomerTerms(models.Model):
    """A business customer's own terms: price list, payment terms and credit limit.

    Kept here, beside the channel's terms, rather than as columns on
    ``orders.Customer``: orders knows nothing of price lists (a higher layer's
    table), and consumers, most customers, need no row at all.
    """

    customer = models.OneToOneField("orders.Customer", on_delete=models.CASCADE, related_name="terms")
    price_list = models.ForeignKey(
        PriceList, on_delete=models.SET_NULL, null=True, blank=True, related_name="customer_terms"
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        choices=PAYMENT_TERMS,
        help_text="Days to pay an invoice (30 = net 30). Empty: the channel's terms.",
    )
    credit_limit = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Most the open balance may reach (see channels_app.terms). Empty: no limit.",
    )
    credit_currency = models.CharField(max_length=3, default="USD", help_text="The credit limit's currency.")

    class Meta:
        verbose_name = "customer terms"
        verbose_name_plural = "customer terms"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credit_limit__isnull=True) | models.Q(credit_limit__gte=0),
                name="credit_limit_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"terms of {self.customer_id}"
