"""Back-office screens of channels_app that are not plain model pages: the order file upload."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from orders.services import actor_for

from .importers.readers import FORMATS, CountingReader, UnusableFile, read_payloads
from .intake import inbound_import
from .models import SalesChannel


class ImportUploadForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=SalesChannel.objects.filter(active=True), to_field_name="code")
    format = forms.ChoiceField(
        choices=[
            (
                f,
                {
                    "csv": "CSV (one row per line)",
                    "shopify": "Shopify orders.json",
                    "woocommerce": "WooCommerce REST v3 export",
                }[f],
            )
            for f in FORMATS
        ]
    )
    file = forms.FileField(help_text="Large files: prefer `manage.py import_orders` (streams, shows progress).")


@permission_required("channels_app.add_inboundorder", raise_exception=True)
def import_upload_view(request):
    """Upload an export; every order is staged, placed or kept failed for replay (same path as the command)."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        channel = form.cleaned_data["channel"]
        try:
            result = inbound_import(
                channel=channel,
                fmt=form.cleaned_data["format"],
                payloads=read_payloads(form.cleaned_data["format"], CountingReader(upload.file)),
                actor=actor_for(request.user),
                source=upload.name,
            )
        except UnusableFile as exc:
            form.add_error("file", str(exc))
        else:
            if result.total == 0:
                form.add_error("file", "No orders found in the file.")
            else:
                failed_url = reverse("admin:channels_app_inboundorder_changelist") + "?status__exact=failed"
                level = messages.WARNING if result.failed else messages.SUCCESS
                note = format_html(' — <a href="{}">see what failed</a>', failed_url) if result.failed else ""
                messages.add_message(request, level, format_html("File {}: {}{}", upload.name, str(result), note))
                return HttpResponseRedirect(reverse("admin:channels_app_inboundorder_changelist"))
    context = {
        **admin.site.each_context(request),
        "title": "Import orders from a file",
        "form": form,
        "opts": SalesChannel._meta,
    }
    return TemplateResponse(request, "channels_app/import_upload.html", context)
