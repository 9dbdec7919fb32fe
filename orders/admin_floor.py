"""Back-office screens of the floor: waves, scans, tracking, partners, promises at risk.

Registered from ``orders.admin`` (one import); the actions and the at-risk
filter are added to its Order and Shipment admins there. Thin: each action
calls a service and reports with ``message_user``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from inventory.errors import DomainError

from . import handoff, picking, promises, tracking
from .models import FulfilmentPartner, PartnerKey, PickList, Shipment, ShipmentStatus, StationScan, TrackingEvent
from .partners import partner_key_create, partner_key_revoke
from .services import actor_for


class AtRiskFilter(admin.SimpleListFilter):
    title = "promise at risk"
    parameter_name = "at_risk"

    def lookups(self, request, model_admin):
        return (("yes", "At risk or late"), ("no", "On track"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(promises.at_risk_q())
        if self.value() == "no":
            return queryset.exclude(promises.at_risk_q())
        return queryset


@admin.display(description="At risk", boolean=True)
def at_risk(order) -> bool:
    return promises.is_at_risk(order)


@admin.action(description="Make a pick list (wave) of the selected pending shipments")
def make_pick_list(modeladmin, request, queryset):
    if not request.user.has_perm("orders.add_picklist"):
        modeladmin.message_user(request, "Your role may not make pick lists.", messages.ERROR)
        return
    locations = set(queryset.values_list("location__code", flat=True))
    if len(locations) != 1:
        modeladmin.message_user(request, "Choose shipments of one location for a wave.", messages.ERROR)
        return
    ids = list(queryset.values_list("pk", flat=True))
    try:
        pick_list = picking.pick_list_create(
            location_code=locations.pop(), max_shipments=len(ids), shipment_ids=ids, actor=actor_for(request.user)
        )
    except DomainError as exc:
        modeladmin.message_user(request, exc.detail, messages.ERROR)
        return
    url = reverse("floor-pick-list", args=[pick_list.pk])
    modeladmin.message_user(
        request,
        format_html(
            'Pick list <a href="{}">{}</a>: {} shipment(s) now picking.',
            url,
            pick_list.number,
            pick_list.shipments.count(),
        ),
        messages.SUCCESS,
    )


@admin.action(description="Ask the carrier for tracking now")
def poll_tracking_now(modeladmin, request, queryset):
    results = [tracking.shipment_poll(shipment_id=pk) for pk in queryset.values_list("pk", flat=True)]
    moved = sum(1 for r in results if r.startswith("moved"))
    modeladmin.message_user(request, f"Polled {len(results)}: {moved} moved on, {results.count('failed')} failed.")


@admin.action(description="Send to the partner again (3PL / dropship)")
def hand_off_again(modeladmin, request, queryset):
    ids = list(
        queryset.filter(status=ShipmentStatus.PENDING, fulfillment__in=handoff.PARTNER_KINDS).values_list(
            "pk", flat=True
        )
    )
    Shipment.objects.filter(pk__in=ids).update(handed_off_at=None)
    sent = 0
    for pk in ids:
        try:
            sent += handoff.shipment_handoff(shipment_id=pk)
        except DomainError as exc:
            modeladmin.message_user(request, exc.detail, messages.ERROR)
    modeladmin.message_user(request, f"Sent {sent} of {len(ids)} partner shipment(s).")


@admin.register(PickList)
class PickListAdmin(admin.ModelAdmin):
    list_display = ("number", "location", "created_at", "created_by", "shipment_count", "print_links")
    list_filter = ("location", "created_at")
    list_select_related = ("location",)
    readonly_fields = ("location", "created_at", "created_by", "lines")

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(n_shipments=Count("shipments"))

    @admin.display(description="Shipments", ordering="n_shipments")
    def shipment_count(self, obj):
        return obj.n_shipments

    @admin.display(description="Print")
    def print_links(self, obj):
        return format_html(
            '<a href="{}">HTML</a> · <a href="{}">PDF</a>',
            reverse("floor-pick-list", args=[obj.pk]),
            reverse("pick-list-pdf", args=[obj.pk]),
        )

    def has_add_permission(self, request):
        return False


@admin.register(StationScan)
class StationScanAdmin(admin.ModelAdmin):
    """Every scan; the refused ones are the caught mis-picks (order accuracy)."""

    list_display = ("at", "shipment", "station", "code", "sku", "outcome", "actor", "voided")
    list_filter = ("outcome", "station", "at")
    list_select_related = ("shipment",)
    search_fields = ("code", "sku", "actor")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TrackingEvent)
class TrackingEventAdmin(admin.ModelAdmin):
    list_display = ("at", "shipment", "status", "mapped", "message", "location")
    list_filter = ("mapped", "status")
    list_select_related = ("shipment",)
    search_fields = ("shipment__tracking_number", "message")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PartnerKeyInline(admin.TabularInline):
    model = PartnerKey
    extra = 0
    fields = ("name", "lookup", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description="Create a new API key (shown once)")
def create_key(modeladmin, request, queryset):
    for partner in queryset:
        _, raw = partner_key_create(partner=partner)
        modeladmin.message_user(request, f"Key for {partner.name} (copy it now, it is not stored): {raw}")


@admin.register(FulfilmentPartner)
class FulfilmentPartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "location", "email", "endpoint_url", "active")
    list_filter = ("active", "location__kind")
    list_select_related = ("location",)
    inlines = (PartnerKeyInline,)
    actions = (create_key,)


@admin.register(PartnerKey)
class PartnerKeyAdmin(admin.ModelAdmin):
    list_display = ("partner", "name", "lookup", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("partner",)
    readonly_fields = ("partner", "lookup", "digest", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        for key in queryset:
            partner_key_revoke(key=key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")
