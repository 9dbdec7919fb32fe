"""Back office for returns, refunds and store credit.

Thin: status and money are never form fields; approve, reject and close are
actions that call ``returns.services``, whose domain errors are shown with
``message_user``. Adding a return opens the request form, receiving happens at
the returns desk (``admin_views``). Changelists cost a constant number of
queries (pinned in tests/returns/test_admin.py).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from inventory.errors import DomainError
from orders.models import pk_from_number
from orders.services import actor_for

from . import admin_views, selectors, services
from .models import (
    Refund,
    ReplacementLine,
    Return,
    ReturnLine,
    ReturnPolicy,
    ReturnReceipt,
    StoreCreditEntry,
)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReturnLineInline(_ReadOnlyInline):
    model = ReturnLine
    fields = (
        "sku",
        "quantity_requested",
        "quantity",
        "reason",
        "unit_price",
        "quantity_received",
        "quantity_restocked",
        "quantity_scrapped",
        "receipts_summary",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("receipts__location")

    @admin.display(description="Receipts")
    def receipts_summary(self, line):
        receipts = list(line.receipts.all())
        if not receipts:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            "{} × {}{} {}",
            (
                (
                    r.quantity,
                    r.get_disposition_display().lower(),
                    f" at {r.location.code}" if r.location else f" (write-off {r.write_off_value})",
                    f"— {r.condition}" if r.condition else "",
                )
                for r in receipts
            ),
        )


class ReplacementLineInline(_ReadOnlyInline):
    model = ReplacementLine
    fields = ("sku", "quantity", "unit_price")
    readonly_fields = fields
    verbose_name = "replacement (exchange)"


class RefundInline(_ReadOnlyInline):
    model = Refund
    fields = ("amount", "currency", "method", "reference", "created_at", "actor")
    readonly_fields = fields


@admin.register(Return)
class ReturnAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "order_link",
        "customer",
        "channel",
        "status",
        "resolution",
        "units",
        "amount",
        "requested_at",
    )
    list_filter = ("status", "resolution", "lines__reason", "order__channel")
    list_select_related = ("order__customer", "order__channel")
    search_fields = ("order__external_id", "order__customer__email")
    date_hierarchy = "requested_at"
    show_full_result_count = False
    readonly_fields = (
        "number",
        "order_link",
        "status",
        "resolution",
        "requested_by",
        "requested_at",
        "approved_at",
        "received_at",
        "closed_at",
        "rejected_at",
        "rejection_reason",
        "amount",
        "exchange_link",
    )
    fields = readonly_fields[:2] + ("note",) + readonly_fields[2:]
    inlines = (ReturnLineInline, ReplacementLineInline, RefundInline)
    actions = ("approve_selected", "reject_selected", "close_selected")
    change_list_template = "returns/admin/change_list.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("order__customer", "order__channel", "exchange_order")
            .prefetch_related("lines", "replacement_lines")
        )

    def get_search_results(self, request, queryset, search_term):
        pk = pk_from_number(Return.NUMBER_PREFIX, search_term) or pk_from_number("SO", search_term)
        if pk and search_term.strip().upper().startswith("RMA"):
            return queryset.filter(pk=pk), False
        if pk:
            return queryset.filter(order_id=pk), False
        return super().get_search_results(request, queryset, search_term)

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(lambda request: view(request, self.admin_site.each_context(request)))

        return [
            path("desk/", wrap(admin_views.returns_desk), name="returns_return_desk"),
            path("request/", wrap(admin_views.return_request_view), name="returns_return_request"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:returns_return_request"))

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Only the note is edited here; saving just it never overwrites a status a service set meanwhile."""
        Return.objects.filter(pk=obj.pk).update(note=obj.note)

    @admin.display(description="Number", ordering="id")
    def number(self, obj):
        return obj.number

    @admin.display(description="Order", ordering="order_id")
    def order_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order.number
        )

    @admin.display(description="Exchange order")
    def exchange_link(self, obj):
        if not obj.exchange_order_id:
            return "—"
        url = reverse("admin:orders_order_change", args=[obj.exchange_order_id])
        return format_html('<a href="{}">{}</a>', url, obj.exchange_order.number)

    @admin.display(description="Customer", ordering="order__customer__email")
    def customer(self, obj):
        return obj.order.customer.email

    @admin.display(description="Channel", ordering="order__channel__code")
    def channel(self, obj):
        return obj.order.channel.code

    @admin.display(description="Units")
    def units(self, obj):
        return sum(line.quantity for line in obj.lines.all())

    @admin.display(description="Refund / credit")
    def amount(self, obj):
        return f"{selectors.return_amount(obj)} {obj.order.currency}"

    def _each(self, request, queryset, verb: str, call) -> None:
        done, failed = [], []
        for rma in queryset.order_by("pk"):
            try:
                call(rma)
            except DomainError as exc:
                failed.append(f"{rma.number}: {exc.detail}")
            else:
                done.append(rma.number)
        if done:
            self.message_user(request, f"{verb}: {', '.join(done)}.", messages.SUCCESS)
        for line in failed:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description="Approve selected returns", permissions=["change"])
    def approve_selected(self, request, queryset):
        self._each(
            request, queryset, "Approved", lambda rma: services.return_approve(rma=rma, actor=actor_for(request.user))
        )

    @admin.action(description="Reject selected returns…", permissions=["change"])
    def reject_selected(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Reject returns",
                "returns": queryset.order_by("pk"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            }
            return TemplateResponse(request, "returns/admin/reject_confirm.html", context)
        reason = request.POST.get("reason", "").strip()[:500]
        self._each(
            request,
            queryset,
            "Rejected",
            lambda rma: services.return_reject(rma=rma, reason=reason, actor=actor_for(request.user)),
        )
        return None

    @admin.action(description="Close selected returns (refund or credit the default amount)", permissions=["change"])
    def close_selected(self, request, queryset):
        self._each(
            request, queryset, "Closed", lambda rma: services.return_close(rma=rma, actor=actor_for(request.user))
        )


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ("return_request", "amount", "currency", "method", "reference", "created_at", "actor")
    list_select_related = ("return_request",)
    list_filter = ("method", "currency")
    search_fields = ("reference",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StoreCreditEntry)
class StoreCreditEntryAdmin(admin.ModelAdmin):
    """The ledger, read-only: credits come from closed returns, spends and adjustments from services."""

    list_display = ("customer", "amount", "currency", "cause", "return_request", "note", "created_at", "actor")
    list_select_related = ("customer", "return_request")
    list_filter = ("cause", "currency")
    search_fields = ("customer__email", "note")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ("channel", "window_days")
    list_select_related = ("channel",)


@admin.register(ReturnReceipt)
class ReturnReceiptAdmin(admin.ModelAdmin):
    """What came back and what became of it; scraps carry their write-off at cost."""

    list_display = ("return_line", "disposition", "quantity", "condition", "location", "write_off", "received_at")
    list_select_related = ("return_line", "location")
    list_filter = ("disposition",)

    @admin.display(description="Write-off")
    def write_off(self, obj):
        return obj.write_off_value

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
