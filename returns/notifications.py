"""Customer e-mails about a return: one per (return, kind), whatever how often the task runs."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from orders import outbox
from orders.models import OrderEvent, pk_from_number

from .models import Return, ReturnNotification

SUBJECTS = {
    ReturnNotification.Kind.APPROVED: "Your return {number} is approved",
    ReturnNotification.Kind.RECEIVED: "We received your return {number}",
    ReturnNotification.Kind.REFUNDED: "Your return {number}: {what} issued",
}


def return_email_send(*, return_id: int, kind: str) -> bool:
    """Send the e-mail unless it went already. Returns whether one was sent now."""
    with transaction.atomic():
        note, _ = ReturnNotification.objects.get_or_create(return_request_id=return_id, kind=kind)
        note = ReturnNotification.objects.select_for_update().get(pk=note.pk)
        if note.sent_at is not None:
            return False
        rma = (
            Return.objects.select_related("order__customer", "exchange_order")
            .prefetch_related("lines__order_line", "replacement_lines")
            .get(pk=return_id)
        )
        recipient = rma.order.customer.email
        what = "refund" if rma.resolution == "refund" else "store credit"
        context = {"rma": rma, "order": rma.order, "customer": rma.order.customer, "what": what}
        body = render_to_string(f"returns/email/{kind}.txt", context)
        subject = SUBJECTS[kind].format(number=rma.number, what=what)
        # Sent inside the row lock: a concurrent re-run waits, then sees sent_at and stops.
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
        note.sent_at = timezone.now()
        note.recipient = recipient
        note.save(update_fields=["sent_at", "recipient"])
    return True


# The return's events on the order's timeline are the outbox (orders.outbox): the
# e-mail goes when its event is dispatched after commit, so a broker outage delays
# it (the outbox sweep retries) and never loses it; ReturnNotification makes a
# second dispatch send nothing.
_KIND_FOR_EVENT = {
    "return.approved": ReturnNotification.Kind.APPROVED,
    "return.received": ReturnNotification.Kind.RECEIVED,
    "return.closed": ReturnNotification.Kind.REFUNDED,
}


@outbox.handler(*_KIND_FOR_EVENT)
def email_on_return_event(event: OrderEvent) -> None:
    return_id = pk_from_number(Return.NUMBER_PREFIX, str(event.data.get("return", "")))
    if return_id is None:
        return
    kind = _KIND_FOR_EVENT[event.type]
    if kind == ReturnNotification.Kind.REFUNDED:
        refund = Return.objects.filter(pk=return_id).values_list("refund_amount", flat=True).first()
        if not refund:
            return  # closed with nothing paid back: nothing to tell
    return_email_send(return_id=return_id, kind=kind)
