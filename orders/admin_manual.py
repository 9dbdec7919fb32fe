"""Manual orders in the back office: staff key in a phone or in-store order.

Thin: the form parses, ``orders.services.place_order`` decides, like every
other way in (reservation, routing, price lists, holds and address checks
apply). The SKU field is the admin's autocomplete (select2) over products,
answered by ``/admin/autocomplete/`` through ``ProductAdmin.search_fields``.

The page draws a fresh ``external_id`` (``MAN-...``) into a hidden field, so a
form posted twice (a double click, a browser retry) is recognised by
place_order's idempotency and places one order.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.forms import formset_factory
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django_countries import countries

from inventory.errors import DomainError
from inventory.models import Product

from . import services
from .errors import InvalidInput
from .models import Customer, Order, OrderLine

PERMISSION = "orders.add_order"


def _channels():
    """Active channels, without importing channels_app (it sits above orders)."""
    return Order._meta.get_field("channel").related_model.objects.filter(active=True).order_by("code")


class ManualOrderForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=_channels(), help_text="Phone or in-store, usually.")
    external_id = forms.CharField(max_length=64, widget=forms.HiddenInput)
    email = forms.EmailField(label="Customer e-mail")
    customer_name = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(max_length=40, required=False)
    kind = forms.ChoiceField(choices=Customer.Kind.choices, initial=Customer.Kind.CONSUMER, label="Customer kind")
    ship_name = forms.CharField(max_length=200, label="Ship to (name)")
    line1 = forms.CharField(max_length=200, label="Address line 1")
    line2 = forms.CharField(max_length=200, required=False, label="Address line 2")
    city = forms.CharField(max_length=100)
    region = forms.CharField(max_length=100, required=False, help_text="State, province or county.")
    postal_code = forms.CharField(max_length=20, required=False)
    country = forms.ChoiceField(choices=list(countries), initial="US")
    shipping_method = forms.CharField(max_length=50, required=False)
    payment_status = forms.ChoiceField(choices=Order.PaymentStatus.choices, initial=Order.PaymentStatus.PAID)
    promised_delivery_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = _channels()  # fresh per request, not the import-time one


class ManualLineForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.all(),
        label="SKU",
        widget=AutocompleteSelect(OrderLine._meta.get_field("product"), admin.site),
    )
    quantity = forms.IntegerField(min_value=1, max_value=services.MAX_QUANTITY, initial=1)
    unit_price = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, help_text="Empty: the price list's."
    )


ManualLineFormSet = formset_factory(
    ManualLineForm, extra=4, min_num=1, validate_min=True, max_num=services.MAX_LINES, validate_max=True
)


def _order_input(form: ManualOrderForm, lines: ManualLineFormSet) -> services.OrderInput:
    d = form.cleaned_data
    return services.OrderInput(
        external_id=d["external_id"],
        customer=services.CustomerInput(
            email=d["email"], name=d["customer_name"] or d["ship_name"], phone=d["phone"], kind=d["kind"]
        ),
        shipping_address=services.AddressInput(
            name=d["ship_name"],
            line1=d["line1"],
            line2=d["line2"],
            city=d["city"],
            region=d["region"],
            postal_code=d["postal_code"],
            country=d["country"],
        ),
        lines=[
            services.LineInput(sku=row["product"].sku, quantity=row["quantity"], unit_price=row["unit_price"])
            for row in lines.cleaned_data
            if row and not row.get("DELETE")
        ],
        currency=None,
        shipping_method=d["shipping_method"],
        payment_status=d["payment_status"],
        promised_delivery_date=d["promised_delivery_date"],
        notes=d["notes"],
    )


# ``attr`` of place_order's errors -> the form field that shows it.
_FIELD_OF = {
    "external_id": "external_id",
    "customer.kind": "kind",
    "payment_status": "payment_status",
    "shipping_address.country": "country",
}


def _show_errors(error: InvalidInput, form: ManualOrderForm, lines: ManualLineFormSet) -> None:
    rows = [f for f in lines.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
    for item in error.errors:
        parts = (item.attr or "").split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
            field = "product" if parts[2] == "sku" else parts[2]
            rows[int(parts[1])].add_error(field if field in ManualLineForm.base_fields else None, item.detail)
        else:
            form.add_error(_FIELD_OF.get(item.attr or ""), item.detail)


def manual_order_view(request, model_admin):
    """GET: the empty form; POST: place the order and go to its page, or show what is wrong."""
    if not (request.user.is_active and request.user.is_staff and request.user.has_perm(PERMISSION)):
        raise PermissionDenied("Your role may not key in orders.")
    if request.method == "POST":
        form = ManualOrderForm(request.POST)
        lines = ManualLineFormSet(request.POST, prefix="lines")
        if form.is_valid() and lines.is_valid():
            channel = form.cleaned_data["channel"]
            try:
                order, created = services.place_order(
                    channel=channel, data=_order_input(form, lines), actor=services.actor_for(request.user)
                )
            except InvalidInput as error:
                _show_errors(error, form, lines)
            except DomainError as error:
                form.add_error(None, error.detail)
            else:
                status = order.get_status_display().lower()
                held = f" ({order.hold_reason})" if order.hold_reason else ""
                verb = "placed" if created else "was already placed"
                model_admin.message_user(
                    request,
                    f"{order.number} {verb} for {channel.code}: {status}{held}.",
                    messages.WARNING if order.hold_reason else messages.SUCCESS,
                )
                return redirect(reverse("admin:orders_order_change", args=[order.pk]))
    else:
        phone = _channels().filter(kind="phone").first()
        form = ManualOrderForm(initial={"external_id": f"MAN-{uuid.uuid4().hex[:12].upper()}", "channel": phone})
        lines = ManualLineFormSet(prefix="lines")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Key in an order",
        "opts": Order._meta,
        "form": form,
        "lines": lines,
        "media": model_admin.media + form.media + lines.media,
    }
    return TemplateResponse(request, "orders/admin/manual_order.html", context)
