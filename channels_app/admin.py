"""Back office for sales channels and their API keys.

Keys are created and revoked only through ``channels_app.services``; the raw key
is shown once, in a message, and its digest never appears on any page.

Other helpers append their ``ModelAdmin`` classes at the end of this file.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from inventory.errors import DomainError
from orders.services import actor_for

from .intake import inbound_fix_payload, inbound_replay
from .models import (
    ChannelConnector,
    ChannelKey,
    CustomerTerms,
    InboundOrder,
    PriceList,
    PriceListItem,
    SalesChannel,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)
from .pulls import connector_configure, pull_orders
from .services import channel_key_create, channel_key_revoke
from .webhooks import EVENTS as WEBHOOK_EVENTS
from .webhooks import webhook_endpoint_create, webhook_message_retry

KEY_SHOWN_ONCE = "New API key for {channel} ({name}): {raw} — copy it now, it will not be shown again."


# --- Sales channels -----------------------------------------------------------------------------------------------


class ChannelKeyInline(admin.TabularInline):
    model = ChannelKey
    fields = ("name", "lookup", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # keys are issued by the "Issue a new API key" action or the key page

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SalesChannel)
class SalesChannelAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "currency", "active", "locations_served", "live_keys", "created_at")
    list_filter = ("kind", "active", "currency")
    search_fields = ("code", "name")
    filter_horizontal = ("locations",)
    readonly_fields = ("created_at",)
    fields = (
        ("code", "active"),
        "name",
        ("kind", "currency"),
        "locations",
        ("price_list", "payment_terms_days"),
        ("backorder_policy", "backorder_cancel_after_days"),
        "created_at",
    )
    inlines = (ChannelKeyInline,)
    actions = ("issue_key",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("locations")
            .annotate(live_key_count=Count("keys", filter=Q(keys__revoked_at__isnull=True), distinct=True))
        )

    @admin.display(description="Locations")
    def locations_served(self, obj):
        return ", ".join(sorted(loc.code for loc in obj.locations.all())) or "—"

    @admin.display(description="Live keys", ordering="live_key_count")
    def live_keys(self, obj):
        return obj.live_key_count

    @admin.action(description="Issue a new API key")
    def issue_key(self, request, queryset):
        for channel in queryset.order_by("code"):
            key, raw = channel_key_create(channel=channel, name="issued in back office")
            self.message_user(
                request, KEY_SHOWN_ONCE.format(channel=channel.code, name=key.name, raw=raw), messages.WARNING
            )


# --- Channel keys -------------------------------------------------------------------------------------------------


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("live", "Live"), ("revoked", "Revoked"))

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ChannelKey)
class ChannelKeyAdmin(admin.ModelAdmin):
    """Adding a key here issues one through ``channel_key_create``; the digest is never shown."""

    list_display = ("__str__", "channel", "name", "state", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("channel",)
    list_filter = (RevokedFilter, "channel")
    search_fields = ("lookup", "name", "channel__code")
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("channel", "name")
        return ("channel", "name", "lookup", "state", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("channel", "lookup", "state", "created_at", "last_used_at", "revoked_at")

    @admin.display(description="State")
    def state(self, obj):
        if obj.revoked_at:
            return format_html('<span style="color:#ba2121">{}</span>', "revoked")
        return "live"

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        key, raw = channel_key_create(channel=obj.channel, name=obj.name)
        obj.pk, obj.lookup, obj.digest, obj.created_at = key.pk, key.lookup, key.digest, key.created_at
        self.message_user(
            request, KEY_SHOWN_ONCE.format(channel=obj.channel.code, name=key.name, raw=raw), messages.WARNING
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        count = 0
        for key in queryset.filter(revoked_at__isnull=True).select_related("channel"):
            channel_key_revoke(key=key)
            count += 1
        self.message_user(request, f"Revoked {count} key(s).")

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row keeps who used it and when


# --- Inbound orders, webhooks, connectors (issue 5) -----------------------------------------------------------------


class InboundOrderPayloadForm(forms.ModelForm):
    payload = forms.JSONField(widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"}))

    class Meta:
        model = InboundOrder
        fields = ("payload",)


@admin.register(InboundOrder)
class InboundOrderAdmin(admin.ModelAdmin):
    """Every payload as it arrived. A failed one can be corrected (payload) and replayed; nothing is deleted."""

    form = InboundOrderPayloadForm
    change_list_template = "channels_app/inboundorder_changelist.html"
    list_display = ("id", "channel", "way_in", "format", "external_id", "status_badge", "short_error", "order_link",
                    "attempts", "created_at")  # fmt: skip
    list_select_related = ("channel",)
    list_filter = ("status", "way_in", "format", "channel")
    search_fields = ("external_id", "error", "source")
    date_hierarchy = "created_at"
    actions = ("replay",)
    readonly_fields = ("channel", "way_in", "format", "external_id", "status_badge", "error", "order_link", "attempts",
                       "source", "digest", "created_at", "updated_at")  # fmt: skip
    fields = (("channel", "way_in", "format"), ("external_id", "status_badge", "order_link"), "error", "payload",
              ("attempts", "source"), ("created_at", "updated_at"), "digest")  # fmt: skip

    def get_urls(self):
        from django.urls import path

        from .admin_views import import_upload_view

        return [
            path("import/", self.admin_site.admin_view(import_upload_view), name="channels_app_inboundorder_import"),
            *super().get_urls(),
        ]

    def has_add_permission(self, request):
        return False  # payloads come from channels, files (Import a file) and connectors

    def has_delete_permission(self, request, obj=None):
        return False  # nothing a channel sent is lost

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status in (InboundOrder.Status.IMPORTED, InboundOrder.Status.DUPLICATE):
            return (*self.readonly_fields, "payload")
        return self.readonly_fields

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        colour = {"failed": "#ba2121", "imported": "#2e7d32", "duplicate": "#666", "received": "#b26a00"}[obj.status]
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.get_status_display())

    @admin.display(description="Error")
    def short_error(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    @admin.display(description="Order", ordering="order_id")
    def order_link(self, obj):
        if not obj.order_id:
            return "—"
        from orders.models import Order, human_number

        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, human_number(Order.NUMBER_PREFIX, obj.order_id))

    def save_model(self, request, obj, form, change):
        try:
            inbound_fix_payload(inbound=obj, payload=form.cleaned_data["payload"])
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return
        self.message_user(request, "Payload saved. Use “Replay” to place it.", messages.INFO)

    @admin.action(description="Replay selected (parse and place again)", permissions=["change"])
    def replay(self, request, queryset):
        counts: dict[str, int] = {}
        for inbound in queryset.order_by("id"):
            state = inbound_replay(inbound=inbound, actor=actor_for(request.user)).status
            counts[state] = counts.get(state, 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        self.message_user(
            request, f"Replayed: {summary}.", messages.WARNING if counts.get("failed") else messages.SUCCESS
        )


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in (*WEBHOOK_EVENTS, "order.*", "shipment.*", "*")],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("channel", "url", "events", "active")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """The signing secret is generated on add and shown once; it never appears on a page again."""

    form = WebhookEndpointForm
    list_display = ("id", "channel", "url", "event_list", "active", "created_at")
    list_select_related = ("channel",)
    list_filter = ("active", "channel")
    search_fields = ("url", "channel__code")

    @admin.display(description="Events")
    def event_list(self, obj):
        return ", ".join(obj.events)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        endpoint = webhook_endpoint_create(channel=obj.channel, url=obj.url, events=obj.events)
        obj.pk, obj.secret, obj.created_at = endpoint.pk, endpoint.secret, endpoint.created_at
        self.message_user(
            request,
            f"Signing secret for {endpoint.url}: {endpoint.secret} — copy it now, it will not be shown again.",
            messages.WARNING,
        )


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("attempt", "at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("attempt",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookMessage)
class WebhookMessageAdmin(admin.ModelAdmin):
    """One event for one URL, with every attempt to deliver it."""

    list_display = (
        "id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    )
    list_select_related = ("endpoint", "endpoint__channel")
    list_filter = ("status", "event_type", "endpoint__channel")
    search_fields = ("event_id", "endpoint__url")
    readonly_fields = ("endpoint", "event_id", "source_event_id", "event_type", "body", "status", "attempts",
                       "next_attempt_at", "delivered_at", "created_at")  # fmt: skip
    inlines = (WebhookDeliveryInline,)
    actions = ("send_again",)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send again now", permissions=["change"])
    def send_again(self, request, queryset):
        for message in queryset:
            webhook_message_retry(message=message)
        self.message_user(request, f"{queryset.count()} message(s) queued; the next sweep sends them.")


class ChannelConnectorForm(forms.ModelForm):
    """Token and secret are write-only: left blank on edit, they keep their stored value."""

    token = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False)

    class Meta:
        model = ChannelConnector
        fields = ("channel", "kind", "base_url", "api_version", "token", "secret", "enabled", "cursor")

    def clean(self):
        data = super().clean()
        for name in ("token", "secret"):
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        return data


@admin.register(ChannelConnector)
class ChannelConnectorAdmin(admin.ModelAdmin):
    form = ChannelConnectorForm
    list_display = ("channel", "kind", "base_url", "enabled", "cursor", "last_pull_at", "last_error")
    list_select_related = ("channel",)
    list_filter = ("kind", "enabled")
    readonly_fields = ("last_pull_at", "last_error")
    actions = ("pull_now",)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            config = connector_configure(
                channel=data["channel"], kind=data["kind"], base_url=data["base_url"], token=data["token"],
                secret=data["secret"], api_version=data.get("api_version") or "", since=data.get("cursor"),
            )  # fmt: skip
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return
        obj.pk = config.pk
        ChannelConnector.objects.filter(pk=config.pk).update(enabled=data["enabled"])

    @admin.action(description="Pull orders now")
    def pull_now(self, request, queryset):
        from .connectors import ConnectorError

        for config in queryset.select_related("channel"):
            try:
                result = pull_orders(channel=config.channel)
            except ConnectorError as exc:
                self.message_user(request, f"{config.channel.code}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{config.channel.code}: {result}")


# --- Terms: price lists and business customers' terms (channels_app.terms) ----------------------------------------


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    fields = ("product", "min_quantity", "unit_price")
    autocomplete_fields = ("product",)
    extra = 1


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    """Prices for lines sent without one: the customer's list, then the channel's, then the catalogue."""

    list_display = ("code", "name", "currency", "active", "item_count", "created_at")
    list_filter = ("active", "currency")
    search_fields = ("code", "name")
    readonly_fields = ("created_at",)
    inlines = (PriceListItemInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_items=Count("items"))

    @admin.display(description="Prices", ordering="n_items")
    def item_count(self, obj):
        return obj.n_items


@admin.register(CustomerTerms)
class CustomerTermsAdmin(admin.ModelAdmin):
    """A business customer's price list, payment terms (net N days) and credit limit."""

    list_display = ("customer", "price_list", "payment_terms_days", "credit_limit", "credit_currency")
    list_select_related = ("customer", "price_list")
    list_filter = ("price_list", "payment_terms_days")
    search_fields = ("customer__email", "customer__name")
    autocomplete_fields = ("customer", "price_list")
