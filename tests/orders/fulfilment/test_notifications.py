"""Customers kept informed from the outbox, after commit; orders at risk flagged and filterable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from orders import fulfilment, outbox, promises
from orders.models import OrderEvent
from orders.tasks import promises_check
from tests import factories


def _customer_mail(address="ana@example.com"):
    return [m for m in mail.outbox if m.to == [address]]


def test_shipped_email_carries_the_tracking_link_and_delivered_follows(channel, floor, commit):
    mail.outbox.clear()
    shipment = factories.place(channel, "N-1", lines=[("TEE", 1)]).shipments.get()
    with commit(execute=True):
        fulfilment.shipment_ship(shipment=shipment, carrier="ups", tracking_number="1Z999AA10123456784", actor="t")
        assert _customer_mail() == []  # not before the transaction commits
    [shipped] = _customer_mail()
    assert "on its way" in shipped.subject
    assert "https://www.ups.com/track?tracknum=1Z999AA10123456784" in shipped.body
    assert "1 x Tee" in shipped.body
    with commit(execute=True):
        fulfilment.shipment_deliver(shipment=shipment, actor="t")
    assert "was delivered" in _customer_mail()[-1].subject
    event = OrderEvent.objects.get(order_id=shipment.order_id, type="shipment.shipped")
    assert event.dispatched_at is not None


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_when_the_transaction_rolls_back(channel, floor):
    from django.db import transaction

    mail.outbox.clear()
    shipment = factories.place(channel, "N-2", lines=[("TEE", 1)]).shipments.get()

    def ship_then_fail():
        with transaction.atomic():
            fulfilment.shipment_ship(shipment=shipment, carrier="ups", tracking_number="1Z", actor="t")
            raise RuntimeError("the caller failed after shipping")

    with pytest.raises(RuntimeError):
        ship_then_fail()
    assert _customer_mail() == []
    assert not OrderEvent.objects.filter(type="shipment.shipped").exists()


def test_a_dispatched_event_is_never_sent_twice(channel, floor, commit):
    mail.outbox.clear()
    shipment = factories.place(channel, "N-3", lines=[("TEE", 1)]).shipments.get()
    with commit(execute=True):
        fulfilment.shipment_ship(shipment=shipment, carrier="ups", tracking_number="1Z", actor="t")
    event = OrderEvent.objects.get(type="shipment.shipped")
    assert outbox.dispatch(event_id=event.pk) is False
    outbox.dispatch_pending()  # sends what placing the order wrote; the shipped event is not among them
    assert len(_customer_mail()) == 1


def test_a_failing_handler_leaves_the_event_for_a_retry(channel, floor, monkeypatch, commit):
    calls = []

    def flaky(event):
        calls.append(event.pk)
        if len(calls) == 1:
            raise ConnectionError("mail server down")

    monkeypatch.setitem(outbox._HANDLERS, "test.flaky", [flaky])
    order = factories.place(channel, "N-4", lines=[("TEE", 1)])
    with commit(execute=True):
        event = OrderEvent.objects.create(order=order, type="test.flaky", at=timezone.now(), actor="t")
    event.refresh_from_db()
    assert event.dispatched_at is None  # the first try failed and let go of it
    assert outbox.dispatch_pending() >= 1  # the beat sweep
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert calls == [event.pk, event.pk]


def test_other_apps_hear_every_dispatched_event(channel, floor, commit):
    heard = []

    def listener(sender, event, **kwargs):
        heard.append(event.type)

    outbox.event_dispatched.connect(listener)
    try:
        with commit(execute=True):
            factories.place(channel, "N-5", lines=[("TEE", 1)])
    finally:
        outbox.event_dispatched.disconnect(listener)
    assert "placed" in heard
    assert "received" in heard


def test_orders_at_risk_are_flagged_once_emailed_and_filterable(staff_api, channel, floor, commit):
    mail.outbox.clear()
    today = timezone.now().date()
    due = factories.place(channel, "R-due", lines=[("TEE", 1)], promised_delivery_date=today + dt.timedelta(days=1))
    later = factories.place(channel, "R-later", lines=[("TEE", 1)], promised_delivery_date=today + dt.timedelta(days=9))
    late = factories.place(channel, "R-late", lines=[("MUG", 1)], promised_delivery_date=today - dt.timedelta(days=1))
    fulfilment.shipment_ship(shipment=late.shipments.get(), carrier="ups", tracking_number="1Z", actor="t")
    factories.place(channel, "R-none", lines=[("TEE", 1)])

    ids = {o["id"] for o in staff_api.get("/api/v1/orders/?at_risk=true").json()["results"]}
    assert ids == {due.pk, late.pk}
    safe = {o["id"] for o in staff_api.get("/api/v1/orders/?at_risk=false").json()["results"]}
    assert due.pk not in safe
    assert later.pk in safe

    mail.outbox.clear()
    with commit(execute=True):
        assert promises_check.delay().get() == 2
    with commit(execute=True):
        assert promises_check.delay().get() == 0  # once per order
    subjects = [m.subject for m in _customer_mail()]
    assert subjects == [f"An update on your order {due.number}", f"An update on your order {late.number}"]
    assert promises.is_at_risk(due)
    assert not promises.is_at_risk(later)
