"""Staff screens of returns: the returns desk (made for a barcode scanner) and the request form.

Thin, like every view: parse what was scanned or typed, call one service, show
the result or the domain error.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from inventory.errors import DomainError
from inventory.models import Location
from orders.models import Order, pk_from_number
from orders.services import actor_for

from . import selectors, services
from .models import Disposition, Resolution, Return, ReturnReason, ReturnStatus

DESK_URL = "admin:returns_return_desk"


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _error_text(exc: DomainError) -> str:
    return "; ".join(f"{item.detail}" for item in exc.items)


# --- The returns desk ---------------------------------------------------------------------------------------------


def _desk_lines(rma: Return) -> list[dict]:
    return [
        {
            "sku": line.sku,
            "name": line.order_line.name,
            "barcode": line.order_line.product.barcode,
            "quantity": line.quantity,
            "reason": line.get_reason_display(),
        }
        for line in rma.lines.all()
    ]


def returns_desk(request: HttpRequest, admin_context: dict) -> HttpResponse:
    """Scan the RMA, scan each unit, choose restock or scrap per unit, note its condition, receive."""
    _require(request, "returns.change_return")
    if request.method == "POST":
        return _desk_receive(request)

    number = (request.GET.get("rma") or "").strip().upper()
    rma = None
    if number:
        rma = (
            selectors.return_list()
            .prefetch_related("lines__order_line__product")
            .filter(pk=pk_from_number(Return.NUMBER_PREFIX, number) or 0)
            .first()
        )
        if rma is None:
            messages.error(request, f"No return {number}.")
        elif rma.status != ReturnStatus.APPROVED:
            messages.error(
                request, f"{rma.number} is {rma.get_status_display().lower()}; only approved returns are received."
            )
            rma = None
    lines = _desk_lines(rma) if rma else []
    context = {
        **admin_context,
        "title": "Returns desk",
        "is_nav_sidebar_enabled": False,  # the whole screen for the scanner
        "rma": rma,
        "lines": lines,
        "locations": Location.objects.filter(active=True).order_by("code"),
        "dispositions": Disposition.choices,
    }
    return render(request, "returns/desk.html", context)


def _desk_receive(request: HttpRequest) -> HttpResponse:
    number = request.POST.get("rma", "")
    rma = Return.objects.filter(pk=pk_from_number(Return.NUMBER_PREFIX, number) or 0).first()
    back = reverse(DESK_URL)
    if rma is None:
        messages.error(request, f"No return {number}.")
        return HttpResponseRedirect(back)
    try:
        units = json.loads(request.POST.get("units") or "[]")
        lines = [
            services.ReceiveLineInput(
                sku=str(unit["sku"]),
                quantity=1,
                disposition=str(unit["disposition"]),
                condition=str(unit.get("condition", ""))[:200],
            )
            for unit in units
        ]
    except (ValueError, KeyError, TypeError):
        messages.error(request, "The scanned units could not be read; scan them again.")
        return HttpResponseRedirect(f"{back}?{urlencode({'rma': rma.number})}")
    try:
        services.return_receive(
            rma=rma, lines=lines, location_code=request.POST.get("location") or None, actor=actor_for(request.user)
        )
    except DomainError as exc:
        messages.error(request, f"{rma.number} not received: {_error_text(exc)}")
        return HttpResponseRedirect(f"{back}?{urlencode({'rma': rma.number})}")
    restocked = sum(1 for unit in lines if unit.disposition == Disposition.RESTOCK)
    messages.success(
        request, f"{rma.number} received: {restocked} restocked, {len(lines) - restocked} scrapped. Scan the next RMA."
    )
    return HttpResponseRedirect(back)


# --- Requesting a return in the back office -----------------------------------------------------------------------


class ReturnRequestForm(forms.Form):
    order = forms.CharField(max_length=20, help_text="Order number (SO-000123) or id.")
    resolution = forms.ChoiceField(choices=Resolution.choices, initial=Resolution.REFUND)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_order(self) -> Order:
        raw = self.cleaned_data["order"].strip()
        pk = int(raw) if raw.isdigit() else pk_from_number(Order.NUMBER_PREFIX, raw)
        order = Order.objects.filter(pk=pk).first() if pk else None
        if order is None:
            raise forms.ValidationError(f"No order {raw}.")
        return order


class ReturnLineForm(forms.Form):
    sku = forms.CharField(max_length=64)
    quantity = forms.IntegerField(min_value=1, max_value=services.MAX_QUANTITY, initial=1)
    reason = forms.ChoiceField(choices=[("", "— reason —"), *ReturnReason.choices])


class ReplacementForm(forms.Form):
    sku = forms.CharField(max_length=64)
    quantity = forms.IntegerField(min_value=1, max_value=services.MAX_QUANTITY, initial=1)


ReturnLineFormSet = forms.formset_factory(ReturnLineForm, extra=3, min_num=1, validate_min=True)
ReplacementFormSet = forms.formset_factory(ReplacementForm, extra=2)


def return_request_view(request: HttpRequest, admin_context: dict) -> HttpResponse:
    _require(request, "returns.add_return")
    form = ReturnRequestForm(request.POST or None, initial={"order": request.GET.get("order", "")})
    lines = ReturnLineFormSet(request.POST or None, prefix="lines")
    replacements = ReplacementFormSet(request.POST or None, prefix="replacements")
    if request.method == "POST" and form.is_valid() and lines.is_valid() and replacements.is_valid():
        try:
            rma = services.return_request(
                order=form.cleaned_data["order"],
                lines=[services.ReturnLineInput(**f.cleaned_data) for f in lines if f.cleaned_data],
                resolution=form.cleaned_data["resolution"],
                note=form.cleaned_data["note"],
                replacements=[services.ReplacementInput(**f.cleaned_data) for f in replacements if f.cleaned_data],
                actor=actor_for(request.user),
            )
        except DomainError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, f"{rma.number} requested for order {rma.order.number}.")
            return HttpResponseRedirect(reverse("admin:returns_return_change", args=[rma.pk]))
    context = {
        **admin_context,
        "title": "Request a return",
        "form": form,
        "lines": lines,
        "replacements": replacements,
    }
    return render(request, "returns/request_form.html", context)
