"""Back office for products, locations, stock and the stock ledger.

Thin, as DESIGN.md asks: stock quantities are never edited here directly;
an adjustment on the stock page goes through ``inventory.services.stock_adjust``
(which writes the ledger row). The ledger itself is read-only.

Other helpers append their ``ModelAdmin`` classes at the end of this file.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, F, IntegerField, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .errors import DomainError
from .models import Location, Product, StockItem, StockMovement
from .selectors import stock_over_value
from .services import stock_adjust


def admin_actor(request) -> str:
    """How the ledger and event log name a back-office user."""
    return f"user:{request.user.get_username()}"


# --- Products -----------------------------------------------------------------------------------------------------


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "barcode", "price", "cost", "weight_grams", "on_hand", "available", "active")
    list_filter = ("active",)
    search_fields = ("sku", "name", "barcode")
    readonly_fields = ("created_at", "updated_at", "stock_by_location")
    fields = (
        ("sku", "active"),
        "name",
        "barcode",
        ("price", "cost"),
        "weight_grams",
        "stock_by_location",
        ("created_at", "updated_at"),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                total_on_hand=Coalesce(Sum("stock_items__on_hand"), Value(0), output_field=IntegerField()),
                total_available=Coalesce(
                    Sum(F("stock_items__on_hand") - F("stock_items__reserved")),
                    Value(0),
                    output_field=IntegerField(),
                ),
            )
        )

    @admin.display(description="On hand", ordering="total_on_hand")
    def on_hand(self, obj):
        return obj.total_on_hand

    @admin.display(description="Available", ordering="total_available")
    def available(self, obj):
        return obj.total_available

    @admin.display(description="Stock by location")
    def stock_by_location(self, obj):
        if not obj.pk:
            return "—"
        items = obj.stock_items.select_related("location").order_by("location__priority", "location__code")
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:inventory_stockitem_change", args=[item.pk]),
                    item.location.code,
                    item.bin or "—",
                    item.on_hand,
                    item.reserved,
                    item.available,
                )
                for item in items
            ),
        )
        if not rows:
            return "No stock anywhere yet."
        return format_html(
            "<table><thead><tr><th>Location</th><th>Bin</th><th>On hand</th><th>Reserved</th>"
            "<th>Available</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )


# --- Locations ----------------------------------------------------------------------------------------------------


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "priority", "active", "city", "country", "channels_served", "stock_rows")
    list_filter = ("kind", "active", "country")
    search_fields = ("code", "name", "city", "postal_code")
    readonly_fields = ("channels_served",)
    fieldsets = (
        (None, {"fields": (("code", "active"), "name", ("kind", "priority"), "channels_served")}),
        (
            "Address",
            {
                "fields": (
                    "address_line1",
                    "address_line2",
                    ("city", "region"),
                    ("postal_code", "country"),
                    ("latitude", "longitude"),
                )
            },
        ),
    )

    def get_queryset(self, request):
        # ``channels`` is the reverse of SalesChannel.locations (channels_app sits above inventory).
        return (
            super()
            .get_queryset(request)
            .prefetch_related("channels")
            .annotate(stock_row_count=Count("stock_items", distinct=True))
        )

    @admin.display(description="Channels served")
    def channels_served(self, obj):
        if not obj.pk:
            return "—"
        channels = sorted(obj.channels.all(), key=lambda c: c.code)
        if not channels:
            return "None (edit a sales channel to add this location)"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:channels_app_saleschannel_change", args=[c.pk]), c.code) for c in channels),
        )

    @admin.display(description="Stock rows", ordering="stock_row_count")
    def stock_rows(self, obj):
        return obj.stock_row_count


# --- Stock --------------------------------------------------------------------------------------------------------


class StockMovementInline(admin.TabularInline):
    """The ledger of this stock row, newest first; read-only."""

    model = StockMovement
    fields = ("created_at", "kind", "quantity", "reason", "reference", "actor")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StockItemForm(forms.ModelForm):
    adjust_by = forms.IntegerField(
        required=False,
        label="Adjust on hand by",
        help_text="Signed change (e.g. -2 for two damaged units); written to the ledger.",
    )
    adjust_reason = forms.CharField(required=False, max_length=200, label="Reason")

    class Meta:
        model = StockItem
        fields = ("product", "location", "bin", "reorder_point", "reorder_quantity", "max_stock")

    def clean(self):
        data = super().clean()
        if data.get("adjust_by") and not data.get("adjust_reason"):
            self.add_error("adjust_reason", "Say why the stock changes.")
        return data


class AvailableFilter(admin.SimpleListFilter):
    title = "availability"
    parameter_name = "availability"

    def lookups(self, request, model_admin):
        return (
            ("out", "Nothing available"),
            ("low", "At or below reorder point"),
            ("over", "Above max stock (overstock)"),
            ("reserved", "Has reservations"),
        )

    def queryset(self, request, queryset):
        available = F("on_hand") - F("reserved")
        if self.value() == "out":
            return queryset.alias(avail=available).filter(avail__lte=0)
        if self.value() == "low":
            return queryset.alias(avail=available).filter(avail__lte=F("reorder_point"))
        if self.value() == "over":
            return queryset.filter(max_stock__isnull=False, on_hand__gt=F("max_stock"))
        if self.value() == "reserved":
            return queryset.filter(reserved__gt=0)
        return queryset


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin):
    form = StockItemForm
    list_display = (
        "product",
        "location",
        "bin",
        "on_hand",
        "reserved",
        "available",
        "reorder_point",
        "reorder_quantity",
        "max_stock",
        "overstock",
        "updated_at",
    )
    list_select_related = ("product", "location")
    list_filter = ("location", AvailableFilter)
    search_fields = ("product__sku", "product__name", "bin", "location__code")
    autocomplete_fields = ("product",)
    readonly_fields = ("on_hand", "reserved", "available", "updated_at")
    inlines = (StockMovementInline,)
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(available_units=F("on_hand") - F("reserved"))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:  # a stock row never moves to another product or location
            fields += ["product", "location"]
        return fields

    def get_fieldsets(self, request, obj=None):
        head = ("product", "location") if obj is None else ("product", "location", "on_hand", "reserved", "available")
        return (
            (None, {"fields": (*head, "bin", ("reorder_point", "reorder_quantity", "max_stock"))}),
            ("Adjust stock", {"fields": (("adjust_by", "adjust_reason"),)}),
        )

    @admin.display(description="Available", ordering="available_units")
    def available(self, obj):
        return obj.on_hand - obj.reserved

    @admin.display(description="Overstock (at cost)")
    def overstock(self, obj):
        """Units above max stock and what they cost (the ``GET /api/v1/stock/overstock/`` report)."""
        if obj.max_stock is None or obj.on_hand <= obj.max_stock:
            return "—"
        over = obj.on_hand - obj.max_stock
        return f"{over} ({over * obj.product.cost:.2f})"

    def changelist_view(self, request, extra_context=None):
        if request.GET.get("availability") == "over":
            location_id = request.GET.get("location__id__exact", "")
            code = (
                Location.objects.filter(pk=location_id).values_list("code", flat=True).first()
                if location_id.isdigit()
                else None
            )
            where = f"at {code}" if code else "over all locations"
            self.message_user(
                request,
                f"Overstock above max stock, at cost: {stock_over_value(location=code)} {where}.",
                messages.INFO,
            )
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        obj.save()
        delta = form.cleaned_data.get("adjust_by")
        if delta:
            try:
                stock_adjust(
                    sku=obj.product.sku,
                    location_code=obj.location.code,
                    delta=delta,
                    reason=form.cleaned_data["adjust_reason"],
                    actor=admin_actor(request),
                )
            except DomainError as error:
                self.message_user(request, f"Stock not adjusted: {error.detail}", messages.ERROR)
            else:
                self.message_user(
                    request, f"On hand of {obj.product.sku} at {obj.location.code} changed by {delta:+d}."
                )

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger refers to it


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    """The stock ledger: rows are only ever written by services."""

    list_display = ("created_at", "sku", "location", "kind", "quantity", "reference", "actor", "reason")
    list_select_related = ("stock_item__product", "stock_item__location")
    list_filter = ("kind", "stock_item__location", "created_at")
    search_fields = ("stock_item__product__sku", "reference", "actor", "reason")
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="SKU", ordering="stock_item__product__sku")
    def sku(self, obj):
        return obj.stock_item.product.sku

    @admin.display(description="Location", ordering="stock_item__location__code")
    def location(self, obj):
        return obj.stock_item.location.code

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Suppliers, purchase orders, recurring orders, channel safety stock (stock helper) ------------------------------

from . import admin_purchasing  # noqa: E402, F401 - registers its ModelAdmins
