"""Customer e-mails, sent from the outbox after commit (console backend by default).

Shipped (with the tracking link), delivered, and promise at risk. Each is an
outbox handler: the event is the message; a failure to send retries the event.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from . import outbox
from .models import OrderEvent, Shipment
from .promises import PROMISE_AT_RISK


def _send(event: OrderEvent, template: str, subject: str, **context) -> None:
    order = event.order
    context = {"order": order, "customer": order.customer, "event": event, **context}
    body = render_to_string(f"orders/email/{template}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [order.customer.email], fail_silently=False)


def _shipment(event: OrderEvent) -> Shipment | None:
    shipment_id = event.data.get("shipment_id")
    return Shipment.objects.filter(pk=shipment_id).first() if shipment_id else None


@outbox.handler("shipment.shipped")
def email_shipped(event: OrderEvent) -> None:
    shipment = _shipment(event)
    if shipment is not None:
        _send(event, "shipped", f"Your order {event.order.number} is on its way", shipment=shipment)


@outbox.handler("shipment.delivered")
def email_delivered(event: OrderEvent) -> None:
    shipment = _shipment(event)
    if shipment is not None:
        _send(event, "delivered", f"Your order {event.order.number} was delivered", shipment=shipment)


@outbox.handler(PROMISE_AT_RISK)
def email_promise_at_risk(event: OrderEvent) -> None:
    _send(event, "promise_at_risk", f"An update on your order {event.order.number}")
