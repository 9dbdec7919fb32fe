"""Paperwork as PDF (reportlab): the 4x6 in shipping label, the packing slip, the pick list, a dropship PO.

Pure functions of rows already loaded (``floor_selectors``): no queries of their own.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.utils import timezone
from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch, mm
from reportlab.pdfgen import canvas

from .models import PickList, Shipment

LABEL_SIZE = (4 * inch, 6 * inch)


def _address_lines(*parts: str) -> list[str]:
    return [p for p in parts if p and p.strip()]


def _ship_to(shipment: Shipment) -> list[str]:
    o = shipment.order
    city = " ".join(p for p in (o.ship_city, o.ship_region, o.ship_postal_code) if p)
    return _address_lines(o.ship_name, o.ship_line1, o.ship_line2, city, str(o.ship_country))


def _ship_from(shipment: Shipment) -> list[str]:
    loc = shipment.location
    city = " ".join(p for p in (loc.city, loc.region, loc.postal_code) if p)
    return _address_lines(loc.name, loc.address_line1, loc.address_line2, city, str(loc.country or ""))


def barcode_value(shipment: Shipment) -> str:
    """The label's barcode: the tracking number once there is one, else the shipment number."""
    return shipment.tracking_number or shipment.number


def _barcode(c: canvas.Canvas, value: str, *, x: float, y: float, max_width: float, height: float) -> float:
    """Draw a Code 128 as wide as fits (at least 0.8 pt a module, so a scanner reads it); return its width."""
    probe = code128.Code128(value, barWidth=1, barHeight=height, quiet=True)
    bar_width = max(0.8, min(1.6, max_width / probe.width))
    symbol = code128.Code128(value, barWidth=bar_width, barHeight=height, quiet=True)
    symbol.drawOn(c, x + (max_width - symbol.width) / 2, y)
    return symbol.width


def label_pdf(shipment: Shipment) -> bytes:
    """A 4x6 in label: from, to, service, a Code 128 of the tracking (or shipment) number."""
    buf = io.BytesIO()
    width, height = LABEL_SIZE
    margin = 0.18 * inch
    c = canvas.Canvas(buf, pagesize=LABEL_SIZE)
    c.setTitle(f"Label {shipment.number}")

    y = height - margin - 8
    c.setFont("Helvetica-Bold", 7)
    c.drawString(margin, y, "FROM")
    c.setFont("Helvetica", 8)
    for line in _ship_from(shipment):
        y -= 10
        c.drawString(margin, y, line[:60])
    c.setFont("Helvetica-Bold", 9)
    c.drawRightString(width - margin, height - margin - 8, shipment.number)
    c.setFont("Helvetica", 7)
    c.drawRightString(width - margin, height - margin - 18, f"Order {shipment.order.number}")
    c.drawRightString(width - margin, height - margin - 27, timezone.now().strftime("%Y-%m-%d"))

    y -= 12
    c.line(margin, y, width - margin, y)
    y -= 16
    c.setFont("Helvetica-Bold", 8)
    c.drawString(margin, y, "SHIP TO")
    c.setFont("Helvetica-Bold", 14)
    for line in _ship_to(shipment):
        y -= 17
        c.drawString(margin + 8, y, line[:34])

    y -= 14
    c.line(margin, y, width - margin, y)
    y -= 26
    carrier = (shipment.carrier or "carrier to be assigned").upper()
    service = shipment.service or shipment.order.shipping_method or "standard"
    c.setFont("Helvetica-Bold", 16)
    c.drawString(margin, y, carrier[:22])
    c.setFont("Helvetica", 10)
    c.drawString(margin, y - 14, service.upper()[:40])
    if shipment.weight_grams:
        c.drawRightString(width - margin, y, f"{shipment.weight_grams / 1000:.2f} kg")
    if shipment.length_mm:
        dims = f"{shipment.length_mm}x{shipment.width_mm}x{shipment.height_mm} mm"
        c.drawRightString(width - margin, y - 14, dims)

    value = barcode_value(shipment)
    bar_height = 1.1 * inch
    bar_y = 0.75 * inch
    c.line(margin, bar_y + bar_height + 14, width - margin, bar_y + bar_height + 14)
    _barcode(c, value, x=margin, y=bar_y, max_width=width - 2 * margin, height=bar_height)
    c.setFont("Helvetica-Bold", 11)
    c.drawCentredString(width / 2, bar_y - 14, value)
    c.setFont("Helvetica", 7)
    caption = "TRACKING #" if shipment.tracking_number else "SHIPMENT # (no tracking number yet)"
    c.drawCentredString(width / 2, bar_y - 26, caption)
    c.showPage()
    c.save()
    return buf.getvalue()


def _table(c: canvas.Canvas, y: float, rows: Iterable[tuple], widths: list[float], *, x: float) -> float:
    for row in rows:
        if y < 60:
            c.showPage()
            c.setFont("Helvetica", 10)
            y = letter[1] - 60
        cx = x
        for cell, w in zip(row, widths, strict=True):
            c.drawString(cx, y, str(cell)[: int(w / 5.5)])
            cx += w
        y -= 16
    return y


def _lines_page(c: canvas.Canvas, *, title: str, subtitle: list[str], address: list[str], shipment: Shipment) -> None:
    width, height = letter
    x = 0.75 * inch
    c.setFont("Helvetica-Bold", 18)
    c.drawString(x, height - inch, title)
    c.setFont("Helvetica", 10)
    y = height - inch - 18
    for line in subtitle:
        c.drawString(x, y, line)
        y -= 14
    _barcode(c, shipment.number, x=width - 3.25 * inch, y=height - 1.4 * inch, max_width=2.5 * inch, height=0.5 * inch)
    y -= 10
    c.setFont("Helvetica-Bold", 10)
    c.drawString(x, y, "Ship to")
    c.setFont("Helvetica", 10)
    for line in address:
        y -= 14
        c.drawString(x, y, line)
    y -= 28
    c.setFont("Helvetica-Bold", 10)
    widths = [1.6 * inch, 3.9 * inch, 0.6 * inch, 0.9 * inch]
    y = _table(c, y, [("SKU", "Item", "Qty", "Bin")], widths, x=x)
    c.setFont("Helvetica", 10)
    rows = [(sl.order_line.sku, sl.order_line.name, sl.quantity, sl.stock_item.bin) for sl in shipment.lines.all()]
    _table(c, y, rows, widths, x=x)


def packing_slip_pdf(shipment: Shipment) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setTitle(f"Packing slip {shipment.number}")
    order = shipment.order
    _lines_page(
        c,
        title="Packing slip",
        subtitle=[
            f"Shipment {shipment.number}   Order {order.number} ({order.external_id})",
            f"Placed {order.placed_at:%Y-%m-%d}" + (f"   Tote {shipment.tote}" if shipment.tote else ""),
        ],
        address=_ship_to(shipment),
        shipment=shipment,
    )
    c.showPage()
    c.save()
    return buf.getvalue()


def purchase_order_pdf(shipment: Shipment) -> bytes:
    """What a dropship supplier is asked to send, and where."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setTitle(f"Dropship order {shipment.number}")
    order = shipment.order
    _lines_page(
        c,
        title=f"Dropship purchase order {shipment.number}",
        subtitle=[
            f"Supplier location {shipment.location.code} — {shipment.location.name}",
            f"Our order {order.number}; ship by {order.promised_delivery_date or 'as soon as possible'}",
            "Report the carrier and tracking number through the partner API.",
        ],
        address=_ship_to(shipment),
        shipment=shipment,
    )
    c.showPage()
    c.save()
    return buf.getvalue()


def pick_list_pdf(pick_list: PickList) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setTitle(f"Pick list {pick_list.number}")
    width, height = letter
    x = 0.75 * inch
    c.setFont("Helvetica-Bold", 18)
    c.drawString(x, height - inch, f"Pick list {pick_list.number} — {pick_list.location.code}")
    c.setFont("Helvetica", 10)
    c.drawString(x, height - inch - 16, f"{pick_list.created_at:%Y-%m-%d %H:%M} UTC by {pick_list.created_by}")
    _barcode(c, pick_list.number, x=width - 2.75 * inch, y=height - 1.3 * inch, max_width=2 * inch, height=10 * mm)
    c.setFont("Helvetica-Bold", 10)
    widths = [1.0 * inch, 1.6 * inch, 3.6 * inch, 0.8 * inch]
    y = _table(c, height - 1.7 * inch, [("Bin", "SKU", "Item", "Qty")], widths, x=x)
    c.setFont("Helvetica", 10)
    rows = [(ln["bin"] or "-", ln["sku"], ln.get("name", ""), ln["quantity"]) for ln in pick_list.lines]
    y = _table(c, y, rows, widths, x=x)
    c.setFont("Helvetica-Bold", 10)
    y = _table(c, y - 16, [("Tote", "Shipment", "Order", "")], widths, x=x)
    c.setFont("Helvetica", 10)
    _table(c, y, [(s.tote, s.number, s.order.number, "") for s in pick_list.shipments.all()], widths, x=x)
    c.showPage()
    c.save()
    return buf.getvalue()
