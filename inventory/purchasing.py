"""Buying stock: purchase orders from draft to received, and the daily reorder drafts.

Every function is one transaction and raises a domain error when a rule says
no. Status changes go through ``purchase_lifecycle``; stock comes in through
``services.stock_receive`` (receipt movements), which tells ``orders`` that
stock arrived so waiting backorders are allocated.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from . import purchase_lifecycle, selectors
from .errors import DomainError, ErrorItem, InvalidInput
from .models import (
    Location,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    RecurringPurchaseOrder,
    StockItem,
    Supplier,
    SupplierProduct,
)
from .models import PurchaseOrderStatus as S
from .services import stock_receive


class OverReceipt(DomainError):
    code = "over_receipt"


@dataclass(frozen=True)
class POLineInput:
    sku: str
    quantity: int
    unit_cost: Decimal | None = None


@dataclass(frozen=True)
class ReceiptLineInput:
    sku: str
    quantity: int


def _lines_create(po: PurchaseOrder, lines: list[POLineInput], products: dict[str, Product]) -> None:
    costs = dict(
        SupplierProduct.objects.filter(supplier=po.supplier, product__in=products.values()).values_list(
            "product_id", "unit_cost"
        )
    )
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(
            purchase_order=po,
            product=products[line.sku],
            quantity=line.quantity,
            unit_cost=line.unit_cost
            if line.unit_cost is not None
            else costs.get(products[line.sku].pk, products[line.sku].cost),
        )
        for line in lines
    )


@transaction.atomic
def purchase_order_create(
    *,
    supplier: Supplier,
    location_code: str,
    lines: list[POLineInput],
    actor: str,
    expected_on=None,
    notes: str = "",
) -> PurchaseOrder:
    """A draft purchase order. Unit cost defaults to the supplier's price for the SKU, else the product's cost."""
    errors: list[ErrorItem] = []
    location = Location.objects.filter(code=location_code).first()
    if location is None:
        errors.append(ErrorItem("unknown_location", f"No location with code {location_code!r}.", "location"))
    if not lines:
        errors.append(ErrorItem("no_lines", "A purchase order needs at least one line.", "lines"))
    products = {p.sku: p for p in Product.objects.filter(sku__in=[line.sku for line in lines])}
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.sku in seen:
            errors.append(ErrorItem("duplicate_sku", f"SKU {line.sku!r} appears twice.", f"lines.{i}.sku"))
        seen.add(line.sku)
        if line.sku not in products:
            errors.append(ErrorItem("unknown_sku", f"No product with SKU {line.sku!r}.", f"lines.{i}.sku"))
        if line.quantity < 1:
            errors.append(ErrorItem("invalid_quantity", "quantity must be at least 1.", f"lines.{i}.quantity"))
        if line.unit_cost is not None and line.unit_cost < 0:
            errors.append(ErrorItem("negative_cost", "unit_cost must not be negative.", f"lines.{i}.unit_cost"))
    if errors:
        raise InvalidInput(errors)
    po = PurchaseOrder.objects.create(supplier=supplier, location=location, expected_on=expected_on, notes=notes)
    _lines_create(po, lines, products)
    purchase_lifecycle.record(po, "created", actor=actor, data={"lines": {line.sku: line.quantity for line in lines}})
    return po


def _lock(po: PurchaseOrder) -> PurchaseOrder:
    return PurchaseOrder.objects.select_for_update().select_related("supplier", "location").get(pk=po.pk)


@transaction.atomic
def purchase_order_send(*, po: PurchaseOrder, actor: str) -> PurchaseOrder:
    """``draft -> sent``; the supplier is e-mailed the PO as CSV after commit. Sets ``expected_on`` if empty."""
    po = _lock(po)
    purchase_lifecycle.ensure(po, S.SENT)
    fields = []
    if po.expected_on is None:
        po.expected_on = timezone.now().date() + timedelta(days=po.supplier.lead_time_days)
        fields.append("expected_on")
    purchase_lifecycle.apply(
        po, S.SENT, actor=actor, data={"email": po.supplier.email, "expected_on": str(po.expected_on)}, fields=fields
    )
    from .tasks import purchase_order_email_task  # tasks import this module

    po_id = po.pk
    transaction.on_commit(lambda: purchase_order_email_task.delay(purchase_order_id=po_id))
    return po


def purchase_order_csv(po: PurchaseOrder) -> str:
    """The purchase order as the supplier reads it: one CSV row per line, their SKU beside ours."""
    lines = list(po.lines.select_related("product").order_by("id"))
    supplier_skus = dict(
        SupplierProduct.objects.filter(
            supplier_id=po.supplier_id, product__in=[ln.product_id for ln in lines]
        ).values_list("product_id", "supplier_sku")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["purchase_order", "deliver_to", "expected_on", "supplier_sku", "sku", "name", "quantity", "unit_cost"]
    )
    for line in lines:
        writer.writerow(
            [
                po.number,
                po.location.code,
                po.expected_on or "",
                supplier_skus.get(line.product_id, ""),
                line.product.sku,
                line.product.name,
                line.quantity,
                line.unit_cost,
            ]
        )
    return out.getvalue()


@transaction.atomic
def purchase_order_receive(
    *, po: PurchaseOrder, lines: list[ReceiptLineInput], actor: str, received_at=None
) -> PurchaseOrder:
    """Goods in: receipt movements per line; ``partially_received`` until every unit is in, then ``received``.

    Receiving more than is still open on a line is refused (409 ``over_receipt``)
    and changes nothing. Full receipt records the real lead time (sent to
    received, in days) and whether it came on time (by ``expected_on``).
    """
    po = _lock(po)
    received_at = received_at or timezone.now()
    if po.status not in (S.SENT, S.PARTIALLY_RECEIVED):
        raise purchase_lifecycle.InvalidTransition(
            f"Purchase order {po.number} is {po.status}; only a sent purchase order can be received.",
            extra={"from": po.status, "to": S.RECEIVED},
        )
    po_lines = {ln.product.sku: ln for ln in po.lines.select_related("product").order_by("id")}
    errors: list[ErrorItem] = []
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.sku not in po_lines:
            errors.append(ErrorItem("unknown_sku", f"{line.sku!r} is not on {po.number}.", f"lines.{i}.sku"))
        if line.sku in seen:
            errors.append(ErrorItem("duplicate_sku", f"SKU {line.sku!r} appears twice.", f"lines.{i}.sku"))
        seen.add(line.sku)
        if line.quantity < 1:
            errors.append(ErrorItem("invalid_quantity", "quantity must be at least 1.", f"lines.{i}.quantity"))
    if not lines:
        errors.append(ErrorItem("no_lines", "Name at least one line received.", "lines"))
    if errors:
        raise InvalidInput(errors)
    over = [
        f"{line.sku}: {line.quantity} received but {po_lines[line.sku].quantity_open} open"
        for line in lines
        if line.quantity > po_lines[line.sku].quantity_open
    ]
    if over:
        raise OverReceipt(
            f"Receiving more than {po.number} ordered: " + "; ".join(over) + ".",
            attr="lines",
            extra={"over": over},
        )

    # Lock the stock rows in primary-key order before receiving into them.
    product_ids = [po_lines[line.sku].product_id for line in lines]
    for product_id in product_ids:
        StockItem.objects.get_or_create(product_id=product_id, location=po.location)
    list(StockItem.objects.select_for_update().filter(product_id__in=product_ids, location=po.location).order_by("pk"))
    for line in lines:
        po_line = po_lines[line.sku]
        stock_receive(
            product=po_line.product,
            location=po.location,
            quantity=line.quantity,
            reference=f"purchase_order:{po.number}",
            actor=actor,
            reason=f"Receipt of {po.number}",
        )
        po_line.quantity_received += line.quantity
        po_line.save(update_fields=["quantity_received"])
    data = {"lines": {line.sku: line.quantity for line in lines}}
    complete = all(ln.quantity_open == 0 for ln in po_lines.values())
    if complete:
        if po.sent_at is not None:
            days = (received_at - po.sent_at).total_seconds() / 86400
            po.lead_time_days = Decimal(str(round(days, 2)))
        po.on_time = received_at.date() <= po.expected_on if po.expected_on else None
        data.update({"lead_time_days": str(po.lead_time_days), "on_time": po.on_time})
        purchase_lifecycle.apply(
            po, S.RECEIVED, actor=actor, data=data, at=received_at, fields=["lead_time_days", "on_time"]
        )
    elif po.status == S.SENT:
        purchase_lifecycle.apply(po, S.PARTIALLY_RECEIVED, actor=actor, data=data, at=received_at)
    else:
        purchase_lifecycle.record(po, "receipt", actor=actor, data=data, at=received_at)
    return po


@transaction.atomic
def purchase_order_cancel(*, po: PurchaseOrder, actor: str, reason: str = "") -> PurchaseOrder:
    """Cancel what has not come in yet (units already received stay received)."""
    po = _lock(po)
    purchase_lifecycle.apply(po, S.CANCELLED, actor=actor, data={"reason": reason})
    return po


@transaction.atomic
def reorder_drafts_create(*, actor: str = "system") -> list[PurchaseOrder]:
    """Draft purchase orders for stock rows whose available plus incoming fell below the reorder point.

    One draft per (supplier, delivery location): a purchase order delivers to
    one place. The supplier is the product's preferred one, else the cheapest.
    Open drafts count as incoming, so a second run the same day drafts nothing.
    Rows whose product has no supplier are skipped.
    """
    incoming = selectors.incoming_by_stock()
    short: list[tuple[StockItem, int]] = []
    for item in StockItem.objects.select_for_update().filter(reorder_point__gt=0).order_by("pk"):
        have = item.on_hand - item.reserved + incoming.get((item.product_id, item.location_id), 0)
        if have < item.reorder_point:
            short.append((item, max(item.reorder_quantity, item.reorder_point - have)))
    if not short:
        return []
    offers: dict[int, SupplierProduct] = {}
    for offer in SupplierProduct.objects.filter(
        product_id__in={item.product_id for item, _ in short}, supplier__active=True
    ).order_by("product_id", "-preferred", "unit_cost", "supplier_id"):
        offers.setdefault(offer.product_id, offer)
    groups: dict[tuple[int, int], list[tuple[StockItem, int, SupplierProduct]]] = defaultdict(list)
    for item, quantity in short:
        offer = offers.get(item.product_id)
        if offer is not None:
            groups[(offer.supplier_id, item.location_id)].append((item, quantity, offer))
    suppliers = Supplier.objects.in_bulk({supplier_id for supplier_id, _ in groups})
    drafts = []
    today = timezone.now().date()
    for (supplier_id, location_id), rows in sorted(groups.items()):
        supplier = suppliers[supplier_id]
        po = PurchaseOrder.objects.create(
            supplier=supplier,
            location_id=location_id,
            expected_on=today + timedelta(days=supplier.lead_time_days),
            notes="Drafted by the daily reorder check.",
        )
        PurchaseOrderLine.objects.bulk_create(
            PurchaseOrderLine(purchase_order=po, product_id=item.product_id, quantity=qty, unit_cost=offer.unit_cost)
            for item, qty, offer in rows
        )
        purchase_lifecycle.record(
            po, "created", actor=actor, data={"reorder": {str(item.pk): qty for item, qty, _ in rows}}
        )
        drafts.append(po)
    return drafts


@transaction.atomic
def recurring_purchase_orders_draft(*, today=None, actor: str = "system") -> list[PurchaseOrder]:
    """Draft a purchase order from every active template that is due, and move it to its next date.

    Runs missed while the task was down are caught up with one draft, not
    several; a second run the same day finds nothing due (idempotent).
    """
    today = today or timezone.now().date()
    drafts = []
    templates = (
        RecurringPurchaseOrder.objects.select_for_update()
        .filter(active=True, next_run_on__lte=today)
        .select_related("supplier", "location")
        .order_by("pk")
    )
    for template in templates:
        lines = list(template.lines.select_related("product").order_by("id"))
        if lines:
            po = PurchaseOrder.objects.create(
                supplier=template.supplier,
                location=template.location,
                expected_on=today + timedelta(days=template.supplier.lead_time_days),
                recurring=template,
                notes=template.notes or f"Recurring every {template.interval_days} days.",
            )
            _lines_create(
                po,
                [POLineInput(ln.product.sku, ln.quantity) for ln in lines],
                {ln.product.sku: ln.product for ln in lines},
            )
            purchase_lifecycle.record(po, "created", actor=actor, data={"recurring": template.pk})
            drafts.append(po)
        next_run = template.next_run_on
        while next_run <= today:
            next_run += timedelta(days=template.interval_days)
        template.next_run_on = next_run
        template.save(update_fields=["next_run_on"])
    return drafts
