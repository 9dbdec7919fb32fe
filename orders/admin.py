"""Back office for customers, orders, shipments and the event timeline.

Thin, as DESIGN.md asks: status is never a form field here; the only writes
are ``orders.services`` calls (the "Cancel selected orders" action), whose
domain errors are shown with ``message_user``. Changelists cost a constant
number of queries (``list_select_related`` and annotations, pinned in
tests/test_admin_pages.py); the big ones skip the unfiltered ``count(*)``.

Other helpers append their ``ModelAdmin`` classes at the end of this file.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Sum
from django.urls import reverse
from django.utils.html import format_html

from inventory.errors import DomainError

from . import lifecycle, services
from .admin_floor import AtRiskFilter, at_risk, hand_off_again, make_pick_list, poll_tracking_now  # + floor models
from .models import Customer, Order, OrderEvent, OrderLine, Shipment, ShipmentLine, pk_from_number

SHIPPED_STATUSES = (Shipment.Status.SHIPPED, Shipment.Status.IN_TRANSIT, Shipment.Status.DELIVERED)


def _link(url_name: str, pk, text) -> str:
    return format_html('<a href="{}">{}</a>', reverse(url_name, args=[pk]), text)


def _pretty_json(data) -> str:
    """Event data: one line when short, else a one-line summary that unfolds to the whole JSON."""
    if not data:
        return "—"
    compact = json.dumps(data, separators=(", ", ": "))
    if len(compact) <= 100:
        return format_html("<code>{}</code>", compact)
    return format_html(
        '<details class="oms-data"><summary>{}</summary><pre>{}</pre></details>',
        compact[:97] + "…",
        json.dumps(data, indent=1),
    )


class ReadOnlyAdminMixin:
    """Rows only services write: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Customers ----------------------------------------------------------------------------------------------------


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "kind", "phone", "order_count", "lifetime_value", "created_at")
    list_filter = ("kind", "created_at")
    search_fields = ("email", "name", "phone")
    readonly_fields = ("created_at", "orders_link")
    fields = ("email", "name", "phone", "kind", "orders_link", "created_at")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_orders=Count("orders"),
                value=Sum("orders__total", filter=~Q(orders__status=Order.Status.CANCELLED)),
            )
        )

    @admin.display(description="Orders", ordering="n_orders")
    def order_count(self, obj):
        return obj.n_orders

    @admin.display(description="Lifetime value", ordering="value")
    def lifetime_value(self, obj):
        return obj.value or 0

    @admin.display(description="Orders")
    def orders_link(self, obj):
        if not obj.pk:
            return "—"
        url = reverse("admin:orders_order_changelist")
        return format_html('<a href="{}?q={}">{} order(s)</a>', url, obj.email, obj.n_orders)


# --- Orders -------------------------------------------------------------------------------------------------------


def _partial_shipping_flags() -> dict:
    """Three booleans that say whether an order is partially shipped, each one subquery."""
    return {
        "any_shipped": Exists(Shipment.objects.filter(order=OuterRef("pk"), status__in=SHIPPED_STATUSES)),
        "any_open": Exists(Shipment.objects.filter(order=OuterRef("pk"), status__in=Shipment.OPEN_STATUSES)),
        "any_waiting": Exists(OrderLine.objects.filter(order=OuterRef("pk"), quantity_backordered__gt=0)),
    }


class PartiallyShippedFilter(admin.SimpleListFilter):
    title = "partially shipped"
    parameter_name = "partial"

    def lookups(self, request, model_admin):
        return (("yes", "Partially shipped"), ("no", "Not partially shipped"))

    def queryset(self, request, queryset):
        partial = Q(any_shipped=True) & (Q(any_open=True) | Q(any_waiting=True))
        if self.value() == "yes":
            return queryset.filter(partial)
        if self.value() == "no":
            return queryset.exclude(partial)
        return queryset


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = (
        "sku",
        "name",
        "quantity",
        "unit_price",
        "line_total",
        "quantity_reserved",
        "quantity_backordered",
        "quantity_shipped",
        "quantity_returned",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Line total")
    def line_total(self, obj):
        return obj.line_total


class ShipmentInline(admin.TabularInline):
    model = Shipment
    fields = (
        "shipment",
        "location",
        "fulfillment",
        "status",
        "contents",
        "carrier",
        "tracking_number",
        "shipped_at",
        "delivered_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("location")
            .prefetch_related(Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line")))
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Shipment")
    def shipment(self, obj):
        return _link("admin:orders_shipment_change", obj.pk, obj.number)

    @admin.display(description="Lines")
    def contents(self, obj):
        return ", ".join(f"{line.order_line.sku} ×{line.quantity}" for line in obj.lines.all()) or "—"


class OrderEventInline(admin.TabularInline):
    """The timeline, oldest first."""

    model = OrderEvent
    verbose_name = "event"
    verbose_name_plural = "timeline"
    fields = ("at", "type", "actor", "details")
    readonly_fields = fields
    ordering = ("at", "id")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Data")
    def details(self, obj):
        return _pretty_json(obj.data)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "channel",
        "external_id",
        "customer",
        "status",
        "payment_status",
        "placed_at",
        "promised_delivery_date",
        at_risk,
        "order_total",
        "partially_shipped",
    )
    list_display_links = ("number",)
    list_select_related = ("channel", "customer")
    list_filter = ("status", "channel", "payment_status", PartiallyShippedFilter, AtRiskFilter, "placed_at")
    search_fields = ("external_id", "customer__email")
    search_help_text = "Order number (SO-000123), external id, customer e-mail or an exact SKU."
    date_hierarchy = "placed_at"
    ordering = ("-placed_at", "-id")
    show_full_result_count = False
    actions = ("cancel_orders",)
    inlines = (OrderLineInline, ShipmentInline, OrderEventInline)
    readonly_fields = (
        "number",
        "channel",
        "external_id",
        "customer_link",
        "status",
        "hold_reason",
        "payment_status",
        "partially_shipped",
        "placed_at",
        "received_at",
        "promised_delivery_date",
        "delivered_at",
        "cancelled_at",
        "updated_at",
        "currency",
        "subtotal",
        "shipping_total",
        "tax_total",
        "total",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "channel", "external_id"),
                    "customer_link",
                    ("status", "hold_reason", "payment_status", "partially_shipped"),
                )
            },
        ),
        (
            "Dates",
            {
                "fields": (
                    ("placed_at", "received_at"),
                    ("promised_delivery_date", "delivered_at"),
                    ("cancelled_at", "updated_at"),
                )
            },
        ),
        ("Totals", {"fields": (("currency", "subtotal", "shipping_total", "tax_total", "total"),)}),
        (
            "Ship to",
            {
                "fields": (
                    "ship_name",
                    "ship_line1",
                    "ship_line2",
                    ("ship_city", "ship_region"),
                    ("ship_postal_code", "ship_country"),
                    "shipping_method",
                    "notes",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**_partial_shipping_flags())

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return results, may_have_duplicates
        pk = pk_from_number(Order.NUMBER_PREFIX, term)
        if pk is not None:
            results |= queryset.filter(pk=pk)
        results |= queryset.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), sku=term)))
        return results, may_have_duplicates

    @admin.display(description="Number", ordering="pk")
    def number(self, obj):
        return obj.number

    @admin.display(description="Customer")
    def customer_link(self, obj):
        return _link("admin:orders_customer_change", obj.customer_id, obj.customer)

    @admin.display(description="Total", ordering="total")
    def order_total(self, obj):
        return f"{obj.total} {obj.currency}"

    @admin.display(description="Partially shipped", boolean=True)
    def partially_shipped(self, obj):
        return bool(obj.any_shipped and (obj.any_open or obj.any_waiting))

    def save_model(self, request, obj, form, change):
        # Only the edited fields: a status a service wrote meanwhile is never overwritten. The
        # admin's view already runs in one transaction; the edit goes on the timeline with who made it.
        if not form.changed_data:
            return
        obj.save(update_fields=[*form.changed_data, "updated_at"])
        changes = {name: str(form.cleaned_data[name]) for name in form.changed_data}
        lifecycle.record(obj, "order_edited", actor=services.actor_for(request.user), data={"changed": changes})

    def has_add_permission(self, request):
        return False  # orders come in through orders.services.place_order (API, imports, commands)

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: the event log is the audit trail

    @admin.action(description="Cancel selected orders", permissions=["change"])
    def cancel_orders(self, request, queryset):
        actor = services.actor_for(request.user)
        cancelled = []
        for order in queryset.order_by("pk"):
            try:
                services.cancel_order(order=order, reason="cancelled in back office", actor=actor)
            except DomainError as error:
                self.message_user(request, f"{order.number} not cancelled: {error.detail}", messages.ERROR)
            else:
                cancelled.append(order.number)
        if cancelled:
            self.message_user(request, f"Cancelled {len(cancelled)} order(s): {', '.join(cancelled)}.")


class BackorderedFilter(admin.SimpleListFilter):
    title = "backordered"
    parameter_name = "backordered"

    def lookups(self, request, model_admin):
        return (("yes", "Waiting for stock"), ("no", "Fully reserved or done"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(quantity_backordered__gt=0)
        if self.value() == "no":
            return queryset.filter(quantity_backordered=0)
        return queryset


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "order",
        "sku",
        "name",
        "quantity",
        "unit_price",
        "quantity_reserved",
        "quantity_backordered",
        "quantity_shipped",
        "quantity_returned",
    )
    list_select_related = ("order",)
    list_filter = ("order__status", BackorderedFilter)
    search_fields = ("=sku", "name")
    show_full_result_count = False


# --- Shipments ----------------------------------------------------------------------------------------------------


class ShipmentLineInline(admin.TabularInline):
    model = ShipmentLine
    fields = ("sku", "name", "quantity", "stock_item")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line", "stock_item__product", "stock_item__location")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="SKU")
    def sku(self, obj):
        return obj.order_line.sku

    @admin.display(description="Name")
    def name(self, obj):
        return obj.order_line.name


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "order_link",
        "order_status",
        "location",
        "fulfillment",
        "status",
        "carrier",
        "tracking_number",
        "created_at",
        "shipped_at",
        "delivered_at",
    )
    list_select_related = ("order", "location")
    list_filter = ("status", "fulfillment", "location", "carrier", "created_at")
    actions = (make_pick_list, poll_tracking_now, hand_off_again)
    search_fields = ("tracking_number", "order__external_id")
    search_help_text = "Shipment number (SH-000077), order number (SO-000123), tracking number or external id."
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = (ShipmentLineInline,)
    fields = (
        ("number", "order_link", "order_status"),
        ("location", "fulfillment", "status"),
        ("carrier", "tracking_number", "tracking_url"),
        ("created_at", "shipped_at", "delivered_at"),
    )
    readonly_fields = (
        "number",
        "order_link",
        "order_status",
        "location",
        "fulfillment",
        "status",
        "carrier",
        "tracking_number",
        "tracking_url",
        "created_at",
        "shipped_at",
        "delivered_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "location")

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        shipment_pk = pk_from_number(Shipment.NUMBER_PREFIX, term)
        if shipment_pk is not None:
            results |= queryset.filter(pk=shipment_pk)
        order_pk = pk_from_number(Order.NUMBER_PREFIX, term)
        if order_pk is not None:
            results |= queryset.filter(order_id=order_pk)
        return results, may_have_duplicates

    @admin.display(description="Number", ordering="pk")
    def number(self, obj):
        return obj.number

    @admin.display(description="Order", ordering="order_id")
    def order_link(self, obj):
        return _link("admin:orders_order_change", obj.order_id, obj.order.number)

    @admin.display(description="Order status", ordering="order__status")
    def order_status(self, obj):
        return obj.order.get_status_display()


# --- Events -------------------------------------------------------------------------------------------------------


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail and outbox: written only by the state machines and services."""

    list_display = ("at", "order_link", "type", "actor", "summary")
    list_filter = ("type", "at")
    search_fields = ("=type", "actor")
    search_help_text = "Order number (SO-000123), exact event type or actor."
    date_hierarchy = "at"
    ordering = ("-at", "-id")
    show_full_result_count = False
    fields = ("order_link", "type", "at", "actor", "details")
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        pk = pk_from_number(Order.NUMBER_PREFIX, search_term.strip())
        if pk is not None:
            results |= queryset.filter(order_id=pk)
        return results, may_have_duplicates

    @admin.display(description="Order", ordering="order_id")
    def order_link(self, obj):
        # The number is the primary key's, so no join is needed.
        return _link("admin:orders_order_change", obj.order_id, Order(pk=obj.order_id).number)

    @admin.display(description="Data")
    def summary(self, obj):
        text = json.dumps(obj.data, separators=(", ", ": ")) if obj.data else ""
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="Data")
    def details(self, obj):
        return _pretty_json(obj.data)
