"""3PL and dropship handoff: a partner shipment is sent to its partner once the order is received.

Dropship: a purchase-order e-mail with the PO as a PDF to the supplier.
3PL: a JSON request to the partner's endpoint. Runs from the outbox after
commit (never inside a transaction, never holding a lock across the network).
Claimed by stamping ``handed_off_at`` first, so a re-run sends nothing twice;
a failure clears the stamp and the outbox retries. The partner reports back
through ``/api/v1/partner/shipments/{id}/ship/`` and ``/deliver/``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import defaultdict

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from inventory.models import Location

from . import documents, lifecycle, outbox
from .floor_selectors import shipment_for_documents
from .fulfilment_errors import HandoffError
from .models import FulfilmentPartner, OrderEvent, Shipment, ShipmentStatus

PARTNER_KINDS = (Location.Kind.THIRD_PARTY, Location.Kind.DROPSHIP)


def request_body(shipment: Shipment) -> dict:
    """What a 3PL receives: the parcel to send, where, and how to report back."""
    order = shipment.order
    return {
        "shipment": {
            "id": shipment.pk,
            "number": shipment.number,
            "order_number": order.number,
            "location": shipment.location.code,
            "shipping_method": order.shipping_method,
            "promised_delivery_date": order.promised_delivery_date.isoformat()
            if order.promised_delivery_date
            else None,
            "ship_to": {
                "name": order.ship_name,
                "line1": order.ship_line1,
                "line2": order.ship_line2,
                "city": order.ship_city,
                "region": order.ship_region,
                "postal_code": order.ship_postal_code,
                "country": str(order.ship_country),
                "email": order.customer.email,
                "phone": order.customer.phone,
            },
            "lines": [
                {"sku": sl.order_line.sku, "name": sl.order_line.name, "quantity": sl.quantity}
                for sl in shipment.lines.all()
            ],
        },
        "report_to": {
            "ship": f"/api/v1/partner/shipments/{shipment.pk}/ship/",
            "deliver": f"/api/v1/partner/shipments/{shipment.pk}/deliver/",
        },
    }


def _send_email(shipment: Shipment, partner: FulfilmentPartner) -> str:
    if not partner.email:
        raise HandoffError(f"Partner {partner.name} has no e-mail address for purchase orders.")
    lines = "\n".join(f"  {sl.quantity} x {sl.order_line.sku} {sl.order_line.name}" for sl in shipment.lines.all())
    message = EmailMessage(
        subject=f"Purchase order {shipment.number} — please ship to our customer",
        body=(
            f"Hello {partner.name},\n\nPlease ship the following to our customer (PO {shipment.number}, "
            f"order {shipment.order.number}):\n\n{lines}\n\nThe purchase order is attached. Report the carrier "
            f"and tracking number with your partner key: POST /api/v1/partner/shipments/{shipment.pk}/ship/.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[partner.email],
    )
    message.attach(f"PO-{shipment.number}.pdf", documents.purchase_order_pdf(shipment), "application/pdf")
    message.send(fail_silently=False)
    return "email"


def _send_request(shipment: Shipment, partner: FulfilmentPartner, body: dict | None = None, key: str = "") -> str:
    if not partner.endpoint_url:
        raise HandoffError(f"Partner {partner.name} has no endpoint for shipment requests.")
    headers = {"Content-Type": "application/json", "Idempotency-Key": key or shipment.number}
    if partner.endpoint_token:
        headers["Authorization"] = f"Bearer {partner.endpoint_token}"
    request = urllib.request.Request(
        partner.endpoint_url,
        data=json.dumps(body or request_body(shipment)).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - the partner's configured URL
            return f"http {response.status}"
    except (urllib.error.URLError, TimeoutError) as exc:
        raise HandoffError(f"Partner {partner.name} did not take {shipment.number}: {exc}")


def shipment_handoff(*, shipment_id: int) -> bool:
    """Send one partner shipment to its partner, once. ``False`` if there was nothing to send."""
    claimed = Shipment.objects.filter(
        pk=shipment_id,
        handed_off_at__isnull=True,
        status=ShipmentStatus.PENDING,
        fulfillment__in=PARTNER_KINDS,
        location__partner__active=True,
    ).update(handed_off_at=timezone.now())
    if not claimed:
        return False
    shipment = shipment_for_documents(pk=shipment_id)
    partner = FulfilmentPartner.objects.get(location_id=shipment.location_id)
    try:
        how = _send_request(shipment, partner) if partner.endpoint_url else _send_email(shipment, partner)
    except Exception:
        Shipment.objects.filter(pk=shipment_id).update(handed_off_at=None)
        raise
    lifecycle.record(
        shipment.order,
        "shipment.handed_off",
        actor="system",
        data={"shipment": shipment.number, "shipment_id": shipment.pk, "partner": partner.name, "via": how},
    )
    return True


READY_FOR_FLOOR = ("received", "backordered", "backorder_allocated")


@outbox.handler(*READY_FOR_FLOOR)
def hand_off_partner_shipments(event: OrderEvent) -> None:
    """The order is ready for the floor: send its partner shipments to their partners."""
    waiting = outbox.batch_memo("partner_shipments_waiting", event, _partner_shipments_waiting)
    for shipment_id in waiting.get(event.order_id, ()):
        shipment_handoff(shipment_id=shipment_id)  # claims it: one already sent is skipped


def _partner_shipments_waiting(events: list[OrderEvent]) -> dict[int, list[int]]:
    """Partner shipments not yet handed off, by order, for every order of the batch: one query."""
    order_ids = {e.order_id for e in events if e.type in READY_FOR_FLOOR}
    waiting: dict[int, list[int]] = defaultdict(list)
    rows = Shipment.objects.filter(
        order_id__in=order_ids,
        status=ShipmentStatus.PENDING,
        fulfillment__in=PARTNER_KINDS,
        handed_off_at__isnull=True,
    ).values_list("order_id", "pk")
    for order_id, shipment_id in rows.order_by("pk"):
        waiting[order_id].append(shipment_id)
    return waiting


@outbox.handler("shipment.cancelled")
def tell_partner_cancelled(event: OrderEvent) -> None:
    """A shipment already handed to its partner was cancelled: tell the partner not to send it."""
    shipment = (
        Shipment.objects.filter(
            pk=event.data.get("shipment_id"), handed_off_at__isnull=False, fulfillment__in=PARTNER_KINDS
        )
        .select_related("order", "location")
        .first()
    )
    partner = FulfilmentPartner.objects.filter(location_id=shipment.location_id).first() if shipment else None
    if partner is None:
        return
    reason = event.data.get("reason", "")
    if partner.endpoint_url:
        body = {"shipment": {"id": shipment.pk, "number": shipment.number, "cancelled": True, "reason": reason}}
        _send_request(shipment, partner, body=body, key=f"{shipment.number}-cancel")
    elif partner.email:
        EmailMessage(
            subject=f"CANCELLED: purchase order {shipment.number} — do not ship",
            body=f"Hello {partner.name},\n\nOur order {shipment.order.number} was cancelled "
            f"({reason or 'no reason given'}). Please do not ship purchase order {shipment.number}.\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[partner.email],
        ).send(fail_silently=False)
