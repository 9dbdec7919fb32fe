"""Back office for suppliers, purchase orders and channel stock rules (imported by ``inventory.admin``).

Thin: purchase orders change state only through ``inventory.purchasing``
(send, receive what is open, cancel), shown as admin actions; domain errors
come back as messages.
"""

from __future__ import annotations

from django.contrib import admin, messages

from . import purchasing, selectors
from .errors import DomainError
from .models import (
    ChannelStockRule,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    RecurringPurchaseOrder,
    RecurringPurchaseOrderLine,
    Supplier,
    SupplierProduct,
)


def _actor(request) -> str:
    return f"user:{request.user.get_username()}"


class SupplierProductInline(admin.TabularInline):
    model = SupplierProduct
    extra = 0
    autocomplete_fields = ("product",)
    fields = ("product", "supplier_sku", "unit_cost", "preferred")


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "lead_time_days", "received_count", "on_time_rate", "real_lead_time", "active")
    list_filter = ("active",)
    search_fields = ("name", "email")
    inlines = (SupplierProductInline,)

    def get_queryset(self, request):
        return selectors.supplier_performance()

    @admin.display(description="POs received", ordering="received_count")
    def received_count(self, obj):
        return obj.received_count

    @admin.display(description="On time")
    def on_time_rate(self, obj):
        return f"{100 * obj.on_time_count / obj.rated_count:.0f}%" if obj.rated_count else "—"

    @admin.display(description="Real lead time (days)", ordering="lead_time_days_avg")
    def real_lead_time(self, obj):
        return f"{obj.lead_time_days_avg:.1f}" if obj.lead_time_days_avg is not None else "—"


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    extra = 0
    fields = ("product", "quantity", "quantity_received", "unit_cost")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PurchaseOrderEventInline(admin.TabularInline):
    model = PurchaseOrderEvent
    extra = 0
    fields = ("at", "type", "actor", "data")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "supplier",
        "location",
        "status",
        "expected_on",
        "sent_at",
        "received_at",
        "lead_time_days",
        "on_time",
    )
    list_filter = ("status", "supplier", "location")
    list_select_related = ("supplier", "location")
    search_fields = ("supplier__name", "=id")
    date_hierarchy = "created_at"
    readonly_fields = (
        "supplier",
        "location",
        "status",
        "created_at",
        "sent_at",
        "received_at",
        "cancelled_at",
        "lead_time_days",
        "on_time",
    )
    fields = (
        ("supplier", "location", "status"),
        ("expected_on", "created_at"),
        ("sent_at", "received_at", "cancelled_at"),
        ("lead_time_days", "on_time"),
        "notes",
    )
    inlines = (PurchaseOrderLineInline, PurchaseOrderEventInline)
    actions = ("send_selected", "receive_open_quantities", "cancel_selected")

    def has_add_permission(self, request):
        return False  # created through the API or drafted by the daily reorder task

    def _each(self, request, queryset, verb, call):
        done = 0
        for po in queryset.order_by("pk"):
            try:
                call(po)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{po.number}: {exc.detail}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} purchase order(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Send to the supplier (e-mail the PO)")
    def send_selected(self, request, queryset):
        self._each(request, queryset, "sent", lambda po: purchasing.purchase_order_send(po=po, actor=_actor(request)))

    @admin.action(description="Receive everything still open")
    def receive_open_quantities(self, request, queryset):
        def receive(po):
            lines = [
                purchasing.ReceiptLineInput(sku=ln.product.sku, quantity=ln.quantity_open)
                for ln in po.lines.select_related("product").order_by("id")
                if ln.quantity_open
            ]
            purchasing.purchase_order_receive(po=po, lines=lines, actor=_actor(request))

        self._each(request, queryset, "received", receive)

    @admin.action(description="Cancel")
    def cancel_selected(self, request, queryset):
        self._each(
            request,
            queryset,
            "cancelled",
            lambda po: purchasing.purchase_order_cancel(po=po, actor=_actor(request), reason="admin"),
        )


@admin.register(ChannelStockRule)
class ChannelStockRuleAdmin(admin.ModelAdmin):
    list_display = ("channel", "location", "safety_stock")
    list_select_related = ("channel", "location")
    list_filter = ("channel",)


class RecurringPurchaseOrderLineInline(admin.TabularInline):
    model = RecurringPurchaseOrderLine
    extra = 1
    autocomplete_fields = ("product",)


@admin.register(RecurringPurchaseOrder)
class RecurringPurchaseOrderAdmin(admin.ModelAdmin):
    """Standing orders: the daily reorder task drafts a purchase order from each one that is due."""

    list_display = ("id", "supplier", "location", "interval_days", "next_run_on", "active")
    list_select_related = ("supplier", "location")
    list_filter = ("active", "supplier")
    inlines = (RecurringPurchaseOrderLineInline,)
