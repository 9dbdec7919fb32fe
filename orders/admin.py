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
from datetime import datetime, time, timedelta
from functools import partial

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet, Sum
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from inventory.errors import DomainError

from . import admin_routing, services
from .admin_floor import AtRiskFilter, at_risk, hand_off_again, make_pick_list, poll_tracking_now  # + floor models
from .models import Customer, Order, OrderEvent, OrderLine, Shipment, ShipmentLine, pk_from_number

ADDRESS_KEYS = ("name", "line1", "line2", "city", "region", "postal_code", "country")
SHIP_TO_FIELDS = tuple(f"ship_{key}" for key in ADDRESS_KEYS)


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
        "any_shipped": Exists(Shipment.objects.filter(order=OuterRef("pk"), status__in=services.SHIPPED_STATUSES)),
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
        "quantity_cancelled",
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


class EstimatedCountPaginator(Paginator):
    """Pages of a big table without a ``count(*)`` over it on every page.

    Unfiltered on PostgreSQL, the count is the planner's estimate
    (``pg_class.reltuples``, kept by autovacuum/ANALYZE) once it is past
    ``EXACT_BELOW`` rows; filtered, or small, or on another database, it is exact.
    """

    EXACT_BELOW = 100_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] and row[0] >= self.EXACT_BELOW:
                return int(row[0])
        return super().count


class SteppingDatesQuerySet(QuerySet):
    """``datetimes()`` for the date hierarchy by stepping along the index: one ``MIN`` per period found.

    Django's own is ``SELECT DISTINCT DATE_TRUNC(...)`` over every row (about
    a second on a million orders); this costs one index probe per year, month
    or day listed, with the same answer.
    """

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if kind not in ("year", "month", "day") or order != "ASC" or tzinfo is not None:
            return super().datetimes(field_name, kind, order, tzinfo)
        plain = self.order_by()
        found = []
        first = plain.aggregate(first=Min(field_name))["first"]
        while first is not None:
            local = timezone.localtime(first)
            start = local.replace(hour=0, minute=0, second=0, microsecond=0, day=1 if kind != "day" else local.day)
            if kind == "year":
                start = start.replace(month=1)
                following = start.replace(year=start.year + 1)
            elif kind == "month":
                following = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
            else:
                following = timezone.make_aware(datetime.combine(start.date() + timedelta(days=1), time.min))
            found.append(start)
            first = plain.filter(**{f"{field_name}__gte": following}).aggregate(first=Min(field_name))["first"]
        return found


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
    paginator = EstimatedCountPaginator
    actions = ("cancel_orders", "release_holds", "confirm_payments")
    change_list_template = "orders/admin/order_change_list.html"
    inlines = (OrderLineInline, ShipmentInline, OrderEventInline)
    readonly_fields = (
        "number",
        "channel",
        "external_id",
        "customer_link",
        "status",
        "hold_reason",
        "payment_status",
        "invoice_due_at",
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
        "routing_explanation",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "channel", "external_id"),
                    "customer_link",
                    ("status", "hold_reason", "payment_status", "partially_shipped"),
                    "invoice_due_at",
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
        ("Routing: where each line ships from, and why", {"fields": ("routing_explanation",)}),
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
        queryset = super().get_queryset(request).annotate(**_partial_shipping_flags())
        queryset.__class__ = SteppingDatesQuerySet  # the date hierarchy without a DISTINCT over the table
        return queryset

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

    @admin.display(description="Routing decision")
    def routing_explanation(self, obj):
        return admin_routing.routing_html(obj)  # orders/admin_routing.py

    @admin.display(description="Total", ordering="total")
    def order_total(self, obj):
        return f"{obj.total} {obj.currency}"

    @admin.display(description="Partially shipped", boolean=True)
    def partially_shipped(self, obj):
        return bool(obj.any_shipped and (obj.any_open or obj.any_waiting))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status in services.SHIPPING_LOCKED_STATUSES:
            return (*self.readonly_fields, *SHIP_TO_FIELDS)  # where it went (or would have) stays as it was
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Through orders.services.order_update_shipping: one "order_edited" event naming what changed, the
        # address checked again (a fixed one lifts an address_invalid hold). A refusal is shown, nothing saved.
        if not form.changed_data:
            return
        data = form.cleaned_data
        try:
            services.order_update_shipping(
                order=obj,
                address=services.AddressInput(**{key: str(data[f"ship_{key}"]) for key in ADDRESS_KEYS}),
                shipping_method=data["shipping_method"],
                notes=data["notes"],
                actor=services.actor_for(request.user),
            )
        except DomainError as error:
            request._order_edit_refused = True
            self.message_user(request, f"{obj.number} not changed: {error.detail}", messages.ERROR)

    def response_change(self, request, obj):
        if getattr(request, "_order_edit_refused", False):
            return HttpResponseRedirect(request.path)  # no "changed successfully" beside the refusal
        return super().response_change(request, obj)

    def get_urls(self):
        from .admin_manual import manual_order_view

        view = self.admin_site.admin_view(partial(manual_order_view, model_admin=self))
        return [path("manual/", view, name="orders_order_manual"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_key_in_orders": request.user.has_perm("orders.add_order"), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def has_release_hold_permission(self, request):
        return request.user.has_perm("orders.release_hold")

    @admin.action(description="Release selected holds", permissions=["release_hold"])
    def release_holds(self, request, queryset):
        actor = services.actor_for(request.user)
        released, still_held = [], []
        for order in queryset.order_by("pk"):
            try:
                order = services.order_release_hold(order=order, actor=actor, note="released in back office")
            except DomainError as error:
                self.message_user(request, f"{order.number} not released: {error.detail}", messages.ERROR)
                continue
            if order.status == Order.Status.ON_HOLD:
                still_held.append(f"{order.number} ({order.hold_reason})")
            else:
                released.append(order.number)
        if released:
            self.message_user(request, f"Released {len(released)} order(s): {', '.join(released)}.")
        if still_held:
            self.message_user(request, f"Still on hold for another reason: {', '.join(still_held)}.", messages.WARNING)

    @admin.action(description="Mark payment received", permissions=["change"])
    def confirm_payments(self, request, queryset):
        actor = services.actor_for(request.user)
        confirmed = []
        for order in queryset.order_by("pk"):
            if order.payment_status == Order.PaymentStatus.PAID:
                continue
            order = services.order_payment_confirm(order=order, actor=actor, reference="back office")
            confirmed.append(f"{order.number} ({order.get_status_display().lower()})")
        self.message_user(request, f"Payment received for {len(confirmed)} order(s): {', '.join(confirmed) or '—'}.")

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
