"""Back-office screens of channels_app that are not plain model pages: the order file upload."""

from __future__ import annotations

import codecs
import csv

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from orders.services import actor_for

from .importers.parsers import CSV_COLUMNS
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

    def clean(self):
        cleaned = super().clean()
        upload, fmt = cleaned.get("file"), cleaned.get("format")
        if upload is not None and fmt:
            problem = upload_problem(upload, fmt)
            if problem:
                self.add_error("file", problem)
        return cleaned


SNIFF_BYTES = 64 * 1024


def upload_problem(upload, fmt: str) -> str | None:
    """Why an uploaded file is refused before anything is read into orders (size, extension, content), or None.

    The extension alone is what a browser claims; the first bytes are checked too, so a
    binary or an HTML page named ``orders.csv`` is refused with nothing imported.
    """
    limit = settings.ORDER_UPLOAD_MAX_BYTES
    if upload.size > limit:
        size, most = upload.size / 2**20, limit / 2**20
        return f"The file is {size:.1f} MiB; the limit is {most:.0f} MiB (use manage.py import_orders for more)."
    extension = "csv" if fmt == "csv" else "json"
    if not upload.name.lower().endswith(f".{extension}"):
        return f"The {fmt} format takes a .{extension} file, not {upload.name}."
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError:
        return f"{upload.name} is not a UTF-8 text file."
    if extension == "json" and text.lstrip()[:1] not in ("[", "{"):
        return f'Not a JSON export: {upload.name} must start with [ or {{ (a list of orders or {{"orders": [...]}}).'
    if "\x00" in text:
        return f"{upload.name} is a binary file, not {extension.upper()}."
    if extension == "json":
        return None
    first_line = text.splitlines()[0] if text.strip() else ""
    header = [column.strip() for column in next(csv.reader([first_line]), [])]
    missing = [column for column in CSV_COLUMNS if column not in header]
    if missing:
        return f"{upload.name} has no order CSV header: missing column(s) {', '.join(missing)}."
    return None


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
