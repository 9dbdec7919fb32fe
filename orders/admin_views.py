"""Staff screens of the floor: the pick station and the pack station (Django templates).

Made for a USB barcode scanner acting as a keyboard: the scan field keeps the
focus, Enter submits, and each scan is answered at once (``static/orders/
station.js`` posts it and paints the answer; without JavaScript the form
posts and the page redraws). Thin: parse, call ``orders.stations``, render.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from inventory.errors import DomainError

from . import documents, stations
from .floor_selectors import pick_list_detail, shipment_for_documents
from .models import PickList, Shipment, ShipmentStatus, StationScan
from .services import actor_for

STATION_PERMS = {"pick": "orders.pick_shipment", "pack": "orders.pack_shipment"}
TITLES = {"pick": "Pick station", "pack": "Pack station"}


def station_view(fn):
    """Staff with the station's permission; others go to the login page or get 403."""

    @wraps(fn)
    def wrapper(request, station, *args, **kwargs):
        if station not in STATION_PERMS:
            raise Http404
        user = request.user
        if not user.is_authenticated or not user.is_staff:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not user.has_perm(STATION_PERMS[station]):
            raise PermissionDenied(f"Your role may not use the {station} station.")
        return fn(request, station, *args, **kwargs)

    return wrapper


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _lines(shipment: Shipment, state: stations.ScanResult) -> list[dict]:
    rows: dict[str, dict] = {}
    for sl in shipment.lines.all():
        row = rows.setdefault(
            sl.order_line.sku,
            {"sku": sl.order_line.sku, "name": sl.order_line.name, "bin": sl.stock_item.bin, "wanted": 0},
        )
        row["wanted"] += sl.quantity
    for row in rows.values():
        row["scanned"] = state.counts.get(row["sku"], 0)
        row["done"] = row["scanned"] >= row["wanted"]
    return sorted(rows.values(), key=lambda r: (r["bin"] == "", r["bin"], r["sku"]))


def floor_home(request):
    if not request.user.is_authenticated or not request.user.is_staff:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    allowed = [s for s, perm in STATION_PERMS.items() if request.user.has_perm(perm)]
    return render(request, "orders/station/home.html", {"stations": allowed, "titles": TITLES})


@station_view
def station_start(request, station):
    """Scan a shipment number (packing slip, tote card) or, at the pick station, a pick list."""
    context = {"station": station, "title": TITLES[station], "error": None, "pick_list": None}
    if request.method == "POST":
        code = request.POST.get("code", "").strip()
        pick_list = stations.find_pick_list(code) if station == "pick" else None
        shipment = stations.find_shipment(code)
        if pick_list is not None:
            context["pick_list"] = pick_list
            context["shipments"] = pick_list.shipments.select_related("order").order_by("tote", "id")
        elif shipment is None:
            context["error"] = f"No shipment {code!r}. Scan the barcode on the packing slip."
        else:
            try:
                stations.station_open(shipment=shipment, station=station, actor=actor_for(request.user))
            except DomainError as exc:
                context["error"] = exc.detail
            else:
                return redirect("floor-station-shipment", station=station, pk=shipment.pk)
    context["queue"] = (
        Shipment.objects.filter(status=stations.STATION_STATUS[station])
        .select_related("order", "location")
        .order_by("id")[:20]
    )
    return render(request, "orders/station/start.html", context, status=400 if context["error"] else 200)


@station_view
def station_shipment(request, station, pk):
    shipment = shipment_for_documents(pk=pk) if Shipment.objects.filter(pk=pk).exists() else None
    if shipment is None:
        raise Http404
    state = stations.progress(shipment, station)
    mis_picks = shipment.scans.filter(station=station, outcome__in=StationScan.MIS_PICKS).count()
    context = {
        "station": station,
        "title": TITLES[station],
        "shipment": shipment,
        "lines": _lines(shipment, state),
        "state": state,
        "mis_picks": mis_picks,
        "scanning": shipment.status == stations.STATION_STATUS[station] and not state.complete,
        "ask_dims": station == "pack" and shipment.status == ShipmentStatus.PICKED and state.complete,
        "packed": station == "pack" and shipment.status == ShipmentStatus.PACKED,
    }
    return render(request, "orders/station/shipment.html", context)


@require_POST
@station_view
def station_scan(request, station, pk):
    shipment = get_object_or_404(Shipment, pk=pk)
    code = request.POST.get("code", "").strip()
    try:
        result = stations.scan_record(shipment=shipment, station=station, code=code, actor=actor_for(request.user))
    except DomainError as exc:
        if _wants_json(request):
            return JsonResponse({"ok": False, "outcome": exc.code, "message": exc.detail}, status=409)
        messages.error(request, exc.detail)
        return redirect("floor-station-shipment", station=station, pk=pk)
    if _wants_json(request):
        return JsonResponse(result.as_dict())
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("floor-station-shipment", station=station, pk=pk)


@require_POST
@station_view
def station_reset(request, station, pk):
    shipment = get_object_or_404(Shipment, pk=pk)
    stations.scans_reset(shipment=shipment, station=station, actor=actor_for(request.user))
    messages.info(request, "Counts cleared: scan every item again.")
    return redirect("floor-station-shipment", station=station, pk=pk)


def _positive_int(value: str) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


@require_POST
@station_view
def pack_submit(request, station, pk):
    if station != "pack":
        raise Http404
    shipment = get_object_or_404(Shipment, pk=pk)
    names = ("weight_grams", "length_mm", "width_mm", "height_mm")
    sizes = {name: _positive_int(request.POST.get(name, "")) for name in names}
    if any(v is None for v in sizes.values()):
        messages.error(request, "Weight and all three sizes must be positive whole numbers.")
        return redirect("floor-station-shipment", station=station, pk=pk)
    try:
        stations.pack_complete(shipment=shipment, actor=actor_for(request.user), **sizes)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"{shipment.number} packed. Print the label and stick it on.")
    return redirect("floor-station-shipment", station=station, pk=pk)


@station_view
def station_label(request, station, pk):
    get_object_or_404(Shipment, pk=pk)
    shipment = shipment_for_documents(pk=pk)
    response = HttpResponse(documents.label_pdf(shipment), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="label-{shipment.number}.pdf"'
    return response


def pick_list_print(request, pk):
    """A pick list as print-friendly HTML (the PDF is at ``/api/v1/pick-lists/{id}.pdf``)."""
    user = request.user
    if not user.is_authenticated or not user.is_staff:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not user.has_perm("orders.view_picklist"):
        raise PermissionDenied("Your role may not read pick lists.")
    get_object_or_404(PickList, pk=pk)
    return render(request, "orders/station/pick_list.html", {"pick_list": pick_list_detail(pk=pk)})
