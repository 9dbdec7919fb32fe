"""Every write to returns: request, approve (with an exchange), reject, receive, close; store credit.

Each public function is one transaction and raises a domain error when a rule
says no (``InvalidInput`` -> 400, ``InvalidTransition`` and other rules -> 409).
Locks follow the project's order: the Order row, then its lines, then the
return, then stock rows (taken by ``inventory.services``). Customer e-mails are
enqueued after commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, IntegerField, Max, Value, When
from django.utils import timezone

from inventory import services as stock_services
from inventory.errors import DomainError, ErrorItem, InvalidInput
from inventory.models import Location, Product
from orders import services as order_services
from orders.models import Customer, Order, OrderLine, ShipmentLine

from . import lifecycle, selectors
from .models import (
    Disposition,
    Refund,
    ReplacementLine,
    Resolution,
    Return,
    ReturnLine,
    ReturnPolicy,
    ReturnReason,
    ReturnReceipt,
    StoreCreditEntry,
)
from .models import ReturnStatus as S

MAX_LINES = order_services.MAX_LINES
MAX_QUANTITY = order_services.MAX_QUANTITY
CENT = Decimal("0.01")


class InsufficientStoreCredit(DomainError):
    code = "insufficient_store_credit"


@dataclass(frozen=True)
class ReturnLineInput:
    sku: str
    quantity: int
    reason: str


@dataclass(frozen=True)
class ReplacementInput:
    sku: str
    quantity: int


@dataclass(frozen=True)
class ReceiveLineInput:
    sku: str
    quantity: int
    disposition: str
    condition: str = ""


def return_window_days(*, channel_id: int) -> int:
    """Days after delivery a channel's customers may ask for a return."""
    policy = ReturnPolicy.objects.filter(channel_id=channel_id).first()
    if policy is not None:
        return policy.window_days
    return int(getattr(settings, "RETURN_WINDOW_DAYS", 30))


def _last_delivery_per_line(order: Order) -> dict[int, object]:
    """When each order line's units last reached the customer (lines not delivered yet are absent)."""
    rows = (
        ShipmentLine.objects.filter(shipment__order=order, shipment__delivered_at__isnull=False)
        .values("order_line_id")
        .annotate(last=Max("shipment__delivered_at"))
        .order_by()
    )
    return {row["order_line_id"]: row["last"] for row in rows}


def _order_lines_returned_add(quantities: Mapping[int, int]) -> None:
    """Move ``OrderLine.quantity_returned`` by {order_line_id: signed delta}: one UPDATE, lines already locked.

    The one place returns writes to an orders table (API.md shows the counter on every order line).
    """
    quantities = {pk: q for pk, q in quantities.items() if q}
    if not quantities:
        return
    delta = Case(
        *[When(pk=pk, then=Value(q)) for pk, q in quantities.items()], default=Value(0), output_field=IntegerField()
    )
    OrderLine.objects.filter(pk__in=list(quantities)).update(quantity_returned=F("quantity_returned") + delta)


def _lock(rma: Return) -> tuple[Order, Return]:
    order = Order.objects.select_for_update().select_related("customer").get(pk=rma.order_id)
    rma = Return.objects.select_for_update().get(pk=rma.pk)
    rma.order = order
    return order, rma


def _validate_replacements(replacements: Sequence[ReplacementInput]) -> tuple[list[ErrorItem], dict[str, Product]]:
    errors: list[ErrorItem] = []
    products = {p.sku: p for p in Product.objects.filter(sku__in=[r.sku for r in replacements])}
    seen: set[str] = set()
    for i, rep in enumerate(replacements):
        attr = f"replacements.{i}"
        product = products.get(rep.sku)
        if rep.sku in seen:
            errors.append(ErrorItem("duplicate_sku", f"SKU {rep.sku!r} appears on more than one line.", f"{attr}.sku"))
        seen.add(rep.sku)
        if product is None:
            errors.append(ErrorItem("unknown_sku", f"No product with SKU {rep.sku!r}.", f"{attr}.sku"))
        elif not product.active:
            errors.append(ErrorItem("inactive_sku", f"Product {rep.sku!r} is not for sale.", f"{attr}.sku"))
        if not 1 <= rep.quantity <= MAX_QUANTITY:
            errors.append(
                ErrorItem("invalid_quantity", f"quantity must be from 1 to {MAX_QUANTITY}.", f"{attr}.quantity")
            )
    return errors, products


@transaction.atomic
def return_request(
    *,
    order: Order,
    lines: Sequence[ReturnLineInput],
    resolution: str = Resolution.REFUND,
    note: str = "",
    replacements: Sequence[ReplacementInput] = (),
    actor: str,
) -> Return:
    """Open an RMA for shipped units of ``order``.

    Refused (400) when nothing has shipped, a SKU is not on the order, a quantity
    exceeds shipped minus already returned (rejected returns do not count), the
    reason or resolution is unknown, or the channel's return window has closed
    since those units were delivered. Replacements make it an exchange; they may
    not be worth more than what comes back.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)
    order_lines = {line.sku: line for line in OrderLine.objects.select_for_update().filter(order=order).order_by("pk")}
    if not any(line.quantity_shipped for line in order_lines.values()):
        raise InvalidInput(
            [
                ErrorItem(
                    "nothing_shipped", f"Nothing of order {order.number} has shipped; nothing can be returned.", "order"
                )
            ]
        )
    now = timezone.now()
    window = timedelta(days=return_window_days(channel_id=order.channel_id))
    delivered = _last_delivery_per_line(order)

    errors: list[ErrorItem] = []
    if resolution not in Resolution.values:
        errors.append(
            ErrorItem("invalid_choice", f"resolution must be one of {', '.join(Resolution.values)}.", "resolution")
        )
    if not 1 <= len(lines) <= MAX_LINES:
        errors.append(ErrorItem("invalid_line_count", f"A return has 1 to {MAX_LINES} lines.", "lines"))
    seen: set[str] = set()
    for i, line in enumerate(lines):
        attr = f"lines.{i}"
        if line.reason not in ReturnReason.values:
            errors.append(
                ErrorItem(
                    "invalid_choice", f"reason must be one of {', '.join(ReturnReason.values)}.", f"{attr}.reason"
                )
            )
        if line.sku in seen:
            errors.append(ErrorItem("duplicate_sku", f"SKU {line.sku!r} appears on more than one line.", f"{attr}.sku"))
        seen.add(line.sku)
        if not 1 <= line.quantity <= MAX_QUANTITY:
            errors.append(
                ErrorItem("invalid_quantity", f"quantity must be from 1 to {MAX_QUANTITY}.", f"{attr}.quantity")
            )
            continue
        order_line = order_lines.get(line.sku)
        if order_line is None:
            errors.append(ErrorItem("unknown_sku", f"SKU {line.sku!r} is not on order {order.number}.", f"{attr}.sku"))
            continue
        returnable = order_line.quantity_shipped - order_line.quantity_returned
        if line.quantity > returnable:
            errors.append(
                ErrorItem(
                    "quantity_exceeds_returnable",
                    f"{line.sku}: {line.quantity} asked, {returnable} returnable "
                    f"({order_line.quantity_shipped} shipped, {order_line.quantity_returned} already on returns).",
                    f"{attr}.quantity",
                )
            )
        last = delivered.get(order_line.pk)
        if last is not None and now > last + window:
            errors.append(
                ErrorItem(
                    "return_window_closed",
                    f"{line.sku} was delivered on {last:%Y-%m-%d}; returns close {window.days} days after delivery.",
                    f"{attr}.sku",
                )
            )
    rep_errors, products = _validate_replacements(replacements)
    errors += rep_errors
    if not errors and replacements:
        returned = sum((order_lines[line.sku].unit_price * line.quantity for line in lines), Decimal("0.00"))
        exchanged = sum((products[r.sku].price * r.quantity for r in replacements), Decimal("0.00"))
        if exchanged > returned:
            errors.append(
                ErrorItem(
                    "exchange_exceeds_return",
                    f"The replacements are worth {exchanged}, more than the {returned} coming back.",
                    "replacements",
                )
            )
    if errors:
        raise InvalidInput(errors)

    rma = Return.objects.create(order=order, resolution=resolution, note=note, requested_by=actor, requested_at=now)
    ReturnLine.objects.bulk_create(
        ReturnLine(
            return_request=rma,
            order_line=order_lines[line.sku],
            sku=line.sku,
            quantity_requested=line.quantity,
            quantity=line.quantity,
            reason=line.reason,
            unit_price=order_lines[line.sku].unit_price,
        )
        for line in lines
    )
    ReplacementLine.objects.bulk_create(
        ReplacementLine(
            return_request=rma,
            product=products[r.sku],
            sku=r.sku,
            quantity=r.quantity,
            unit_price=products[r.sku].price,
        )
        for r in replacements
    )
    _order_lines_returned_add({order_lines[line.sku].pk: line.quantity for line in lines})
    rma.order = order
    data = {
        "resolution": resolution,
        "lines": [{"sku": line.sku, "quantity": line.quantity, "reason": line.reason} for line in lines],
    }
    if replacements:
        data["replacements"] = [{"sku": r.sku, "quantity": r.quantity} for r in replacements]
    lifecycle.record(rma, "return.requested", actor=actor, data=data, at=now)
    return rma


def _exchange_place(*, rma: Return, order: Order, actor: str) -> Order:
    """The replacement order: same customer and address, replacement lines at no charge (paid by the return)."""
    customer = order.customer
    data = order_services.OrderInput(
        external_id=f"{rma.number}-EXCHANGE",
        customer=order_services.CustomerInput(
            email=customer.email, name=customer.name, phone=customer.phone, kind=customer.kind
        ),
        shipping_address=order_services.AddressInput(
            name=order.ship_name,
            line1=order.ship_line1,
            line2=order.ship_line2,
            city=order.ship_city,
            region=order.ship_region,
            postal_code=order.ship_postal_code,
            country=str(order.ship_country),
        ),
        lines=[
            order_services.LineInput(sku=rep.sku, quantity=rep.quantity, unit_price=Decimal("0.00"))
            for rep in rma.replacement_lines.order_by("id")
        ],
        currency=order.currency,
        shipping_method=order.shipping_method,
        payment_status=Order.PaymentStatus.PAID,
        notes=f"Exchange for {rma.number} (order {order.number}).",
    )
    exchange, _ = order_services.place_order(channel=order.channel, data=data, actor=actor)
    return exchange


@transaction.atomic
def return_approve(*, rma: Return, actor: str) -> Return:
    """Accept the request; an exchange places its replacement order now. E-mails the customer."""
    order, rma = _lock(rma)
    lifecycle.apply(rma, S.APPROVED, actor=actor)
    if rma.replacement_lines.exists():
        exchange = _exchange_place(rma=rma, order=order, actor=actor)
        rma.exchange_order = exchange
        rma.save(update_fields=["exchange_order", "updated_at"])
        lifecycle.record(rma, "return.exchange_placed", actor=actor, data={"order": exchange.number})
    return rma


@transaction.atomic
def return_reject(*, rma: Return, reason: str, actor: str) -> Return:
    """Refuse the return before the goods are in: its units become returnable again.

    An exchange order already placed is cancelled; once it has shipped the
    rejection is refused (409 ``already_shipped``) and nothing changes.
    """
    order, rma = _lock(rma)
    lifecycle.apply(rma, S.REJECTED, actor=actor, data={"reason": reason})
    rma.rejection_reason = reason
    rma.save(update_fields=["rejection_reason", "updated_at"])
    lines = list(rma.lines.select_for_update().order_by("pk"))
    _order_lines_returned_add({line.order_line_id: -line.quantity for line in lines})
    if rma.exchange_order_id:
        order_services.cancel_order(order=rma.exchange_order, reason=f"{rma.number} rejected: {reason}", actor=actor)
    return rma


def _restock_locations(rma: Return, location_code: str | None) -> tuple[dict[int, Location], list[ErrorItem]]:
    """Where each returned order line goes back on the shelf: the chosen location, else where it shipped from."""
    if location_code:
        location = Location.objects.filter(code=location_code).first()
        if location is None:
            return {}, [ErrorItem("unknown_location", f"No location with code {location_code!r}.", "location")]
        return {line.order_line_id: location for line in rma.lines.all()}, []
    shipped = (
        ShipmentLine.objects.filter(
            order_line__return_lines__return_request=rma, shipment__status__in=order_services.SHIPPED_STATUSES
        )
        .select_related("stock_item__location")
        .order_by("shipment_id", "id")
    )
    out: dict[int, Location] = {}
    for sl in shipped:
        out.setdefault(sl.order_line_id, sl.stock_item.location)
    return out, []


@transaction.atomic
def return_receive(
    *, rma: Return, lines: Sequence[ReceiveLineInput], actor: str, location_code: str | None = None
) -> Return:
    """The parcel is in: each unit restocked (a ``return_restock`` movement) or scrapped (written off at cost).

    Restocked units go back at ``location_code`` or where they shipped from, and
    waiting backorders may take them (inventory's ``stock_arrived`` signal). A
    scrap leaves ``on_hand`` untouched (the unit left it when it shipped): it is
    recorded on the receipt with the product's cost, which is the write-off.
    Units announced but not in the parcel leave the return and become
    returnable again.
    """
    order, rma = _lock(rma)
    if not lifecycle.can_move(rma, S.RECEIVED):
        lifecycle.apply(rma, S.RECEIVED, actor=actor)  # raises InvalidTransition naming the rule
    return_lines = {
        rl.sku: rl for rl in rma.lines.select_for_update().select_related("order_line__product").order_by("pk")
    }
    errors: list[ErrorItem] = []
    if not 1 <= len(lines) <= MAX_LINES * 10:
        errors.append(ErrorItem("invalid_line_count", "Name at least one received unit.", "lines"))
    totals: dict[str, int] = defaultdict(int)
    for i, line in enumerate(lines):
        attr = f"lines.{i}"
        if line.disposition not in Disposition.values:
            errors.append(ErrorItem("invalid_choice", "disposition must be restock or scrap.", f"{attr}.disposition"))
        if not 1 <= line.quantity <= MAX_QUANTITY:
            errors.append(
                ErrorItem("invalid_quantity", f"quantity must be from 1 to {MAX_QUANTITY}.", f"{attr}.quantity")
            )
            continue
        if line.sku not in return_lines:
            errors.append(ErrorItem("unknown_sku", f"SKU {line.sku!r} is not on return {rma.number}.", f"{attr}.sku"))
            continue
        totals[line.sku] += line.quantity
    for sku, got in totals.items():
        if got > return_lines[sku].quantity:
            errors.append(
                ErrorItem(
                    "quantity_exceeds_return",
                    f"{sku}: {got} received, {return_lines[sku].quantity} on return {rma.number}.",
                    "lines",
                )
            )
    locations, location_errors = _restock_locations(rma, location_code)
    errors += location_errors
    if not errors:
        for i, line in enumerate(lines):
            rl = return_lines[line.sku]
            if line.disposition == Disposition.RESTOCK and rl.order_line_id not in locations:
                errors.append(
                    ErrorItem("location_required", f"Name a location to restock {line.sku} at.", f"lines.{i}")
                )
    if errors:
        raise InvalidInput(errors)

    now = timezone.now()
    receipts = []
    restocked: dict[str, int] = defaultdict(int)
    scrapped: dict[str, int] = defaultdict(int)
    write_off = Decimal("0.00")
    # Stock rows are locked one by one inside stock_adjust; go in product order so two desks never deadlock.
    for line in sorted(lines, key=lambda li: return_lines[li.sku].order_line.product_id):
        rl = return_lines[line.sku]
        product = rl.order_line.product
        receipt = ReturnReceipt(
            return_line=rl,
            disposition=line.disposition,
            quantity=line.quantity,
            condition=line.condition[:200],
            unit_cost=product.cost,
            received_at=now,
            actor=actor,
        )
        if line.disposition == Disposition.RESTOCK:
            location = locations[rl.order_line_id]
            receipt.location = location
            receipt.stock_movement = stock_services.stock_adjust(
                sku=product.sku,
                location_code=location.code,
                delta=line.quantity,
                reason=f"{rma.number} restocked" + (f": {line.condition}" if line.condition else ""),
                actor=actor,
                kind="return_restock",
            )
            restocked[line.sku] += line.quantity
        else:
            scrapped[line.sku] += line.quantity
            write_off += receipt.write_off_value
        receipts.append(receipt)
    ReturnReceipt.objects.bulk_create(receipts)

    not_received: dict[str, int] = {}
    for sku, rl in return_lines.items():
        got = totals.get(sku, 0)
        if got < rl.quantity:
            not_received[sku] = rl.quantity - got
        ReturnLine.objects.filter(pk=rl.pk).update(
            quantity=got,
            quantity_received=got,
            quantity_restocked=restocked.get(sku, 0),
            quantity_scrapped=scrapped.get(sku, 0),
        )
    _order_lines_returned_add({return_lines[sku].order_line_id: -n for sku, n in not_received.items()})
    lifecycle.apply(
        rma,
        S.RECEIVED,
        actor=actor,
        at=now,
        data={
            "restocked": dict(restocked),
            "scrapped": dict(scrapped),
            "write_off_value": str(write_off),
            "not_received": not_received,
        },
    )
    return rma


def _parse_amount(amount) -> Decimal | None:
    if amount is None or amount == "":
        return None
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise InvalidInput([ErrorItem("invalid_amount", "amount must be a decimal like 19.90.", "amount")])
    if not value.is_finite() or value < 0 or value != value.quantize(CENT):
        raise InvalidInput([ErrorItem("invalid_amount", "amount must be zero or more, in cents.", "amount")])
    return value.quantize(CENT)


@transaction.atomic
def return_close(
    *,
    rma: Return,
    actor: str,
    amount: Decimal | str | None = None,
    method: str = Refund.Method.ORIGINAL_PAYMENT,
    reference: str = "",
) -> Return:
    """Make the customer whole: a refund or a store-credit entry, per the return's resolution.

    ``amount`` defaults to what was paid for the units received (less an
    exchange); less is allowed (a partial refund), more is refused (400
    ``amount_exceeds_paid``). Zero closes without paying anything.
    """
    order, rma = _lock(rma)
    if not lifecycle.can_move(rma, S.CLOSED):
        lifecycle.apply(rma, S.CLOSED, actor=actor)  # raises InvalidTransition naming the rule
    limit = selectors.return_refundable_amount(rma)
    value = _parse_amount(amount)
    if value is None:
        value = limit
    if value > limit:
        raise InvalidInput(
            [
                ErrorItem(
                    "amount_exceeds_paid",
                    f"{value} is more than the {limit} {order.currency} paid for the returned units.",
                    "amount",
                )
            ]
        )
    if rma.resolution == Resolution.REFUND and method not in Refund.Method.values:
        raise InvalidInput(
            [ErrorItem("invalid_choice", f"method must be one of {', '.join(Refund.Method.values)}.", "method")]
        )
    now = timezone.now()
    data = {"amount": str(value), "currency": order.currency, "resolution": rma.resolution}
    if value > 0 and rma.resolution == Resolution.REFUND:
        Refund.objects.create(
            return_request=rma,
            amount=value,
            currency=order.currency,
            method=method,
            reference=reference,
            created_at=now,
            actor=actor,
        )
        data.update({"method": method, "reference": reference})
    elif value > 0:
        StoreCreditEntry.objects.create(
            customer_id=order.customer_id,
            amount=value,
            currency=order.currency,
            cause=StoreCreditEntry.Cause.RETURN,
            return_request=rma,
            note=f"{rma.number} (order {order.number})",
            created_at=now,
            actor=actor,
        )
    rma.refund_amount = value
    rma.save(update_fields=["refund_amount", "updated_at"])
    lifecycle.apply(rma, S.CLOSED, actor=actor, at=now, data=data)  # its outbox handler e-mails the refund
    return rma


@transaction.atomic
def store_credit_adjust(
    *, customer: Customer, amount: Decimal, currency: str, cause: str, note: str, actor: str
) -> StoreCreditEntry:
    """A manual credit or a spend (negative). The balance never goes below zero (409 ``insufficient_store_credit``)."""
    if cause not in (StoreCreditEntry.Cause.REDEMPTION, StoreCreditEntry.Cause.ADJUSTMENT):
        raise InvalidInput([ErrorItem("invalid_choice", "cause must be redemption or adjustment.", "cause")])
    value = Decimal(str(amount)).quantize(CENT)
    if value == 0:
        raise InvalidInput([ErrorItem("invalid_amount", "amount must not be zero.", "amount")])
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    currency = currency.upper()
    balance = selectors.store_credit_balance(customer=customer).get(currency, Decimal("0.00"))
    if balance + value < 0:
        raise InsufficientStoreCredit(
            f"{customer.email} has {balance} {currency} of store credit; {-value} cannot be spent.", attr="amount"
        )
    return StoreCreditEntry.objects.create(
        customer=customer,
        amount=value,
        currency=currency,
        cause=cause,
        note=note,
        created_at=timezone.now(),
        actor=actor,
    )
