"""Tracking polls against the fake EasyPost server: moves to delivered, a repeated poll changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders import fulfilment, tracking
from orders.models import Order, OrderEvent, Shipment, TrackingEvent
from orders.tasks import shipments_poll_due
from tests import factories

from .fake_servers import FakeEasyPost


@pytest.fixture
def easypost(settings):
    with FakeEasyPost() as fake:
        settings.EASYPOST_API_KEY = FakeEasyPost.API_KEY
        settings.EASYPOST_API_BASE = fake.url + "/v2"
        settings.OMS_TRACKING_PROVIDER = "easypost"
        yield fake


def _shipped(channel, ext="T-1") -> Shipment:
    shipment = factories.place(channel, ext, lines=[("TEE", 1)]).shipments.get()
    return fulfilment.shipment_ship(
        shipment=shipment, carrier="usps", tracking_number="9400110898825022579493", actor="t"
    )


def _state(shipment):
    shipment.refresh_from_db()
    return (
        shipment.status,
        TrackingEvent.objects.filter(shipment=shipment).count(),
        OrderEvent.objects.filter(order_id=shipment.order_id).count(),
    )


def test_polling_moves_a_shipment_to_delivered_and_a_repeat_changes_nothing(channel, floor, easypost):
    shipment = _shipped(channel)
    assert (shipment.tracking_provider, shipment.next_poll_at is not None) == ("easypost", True)
    easypost.add_detail("pre_transit", "2026-11-20T10:00:00Z", "Label created")
    easypost.add_detail("in_transit", "2026-11-21T08:30:00Z", "Arrived at USPS facility")
    assert tracking.shipment_poll(shipment_id=shipment.pk) == "moved:in_transit"
    assert _state(shipment)[0] == "in_transit"
    assert shipment.carrier_ref == "trk_c8e0edb5bb284caa934a0d3db23a148z"
    assert Order.objects.get(pk=shipment.order_id).status == "shipped"

    easypost.add_detail("delivered", "2026-11-23T15:04:00Z", "Delivered, in mailbox")
    assert tracking.shipment_poll(shipment_id=shipment.pk) == "moved:delivered"
    before = _state(shipment)
    assert before[:2] == ("delivered", 3)
    order = Order.objects.get(pk=shipment.order_id)
    assert order.status == "delivered"
    assert order.delivered_at.isoformat() == "2026-11-23T15:04:00+00:00"
    assert shipment.next_poll_at is None

    assert tracking.shipment_poll(shipment_id=shipment.pk) == "closed"
    assert _state(shipment) == before


def test_the_same_events_polled_twice_are_stored_once(channel, floor, easypost):
    shipment = _shipped(channel)
    easypost.add_detail("in_transit", "2026-11-21T08:30:00Z", "Arrived")
    tracking.shipment_poll(shipment_id=shipment.pk)
    first = _state(shipment)
    assert tracking.shipment_poll(shipment_id=shipment.pk) == "unchanged"
    assert _state(shipment) == first


def test_exception_then_back_in_transit(channel, floor, easypost):
    shipment = _shipped(channel)
    easypost.add_detail("failure", "2026-11-21T08:30:00Z", "Address not found")
    assert tracking.shipment_poll(shipment_id=shipment.pk) == "moved:exception"
    easypost.add_detail("in_transit", "2026-11-22T08:30:00Z", "Forwarded")
    assert tracking.shipment_poll(shipment_id=shipment.pk) == "moved:in_transit"


def test_a_failed_poll_backs_off_exponentially(channel, floor, easypost):
    shipment = _shipped(channel)
    easypost.fail_next = 2
    now = timezone.now()
    assert tracking.shipment_poll(shipment_id=shipment.pk, now=now) == "failed"
    shipment.refresh_from_db()
    assert (shipment.poll_failures, shipment.next_poll_at) == (1, now + timedelta(minutes=5))
    assert tracking.shipment_poll(shipment_id=shipment.pk, now=now) == "failed"
    shipment.refresh_from_db()
    assert (shipment.poll_failures, shipment.next_poll_at) == (2, now + timedelta(minutes=10))
    assert tracking.due_shipment_ids(now=now) == []
    easypost.add_detail("in_transit", "2026-11-21T08:30:00Z", "Arrived")
    assert tracking.shipment_poll(shipment_id=shipment.pk, now=now) == "moved:in_transit"
    shipment.refresh_from_db()
    assert shipment.poll_failures == 0
    assert tracking.backoff(20) == timedelta(hours=12)


def test_manual_shipments_are_not_polled(channel, floor, settings):
    settings.OMS_TRACKING_PROVIDER = "manual"
    shipment = _shipped(channel)
    assert shipment.tracking_provider == "manual"
    assert tracking.due_shipment_ids() == []


def test_command_and_beat_task_run_a_round(channel, floor, easypost, capsys):
    shipment = _shipped(channel)
    easypost.add_detail("delivered", "2026-11-23T15:04:00Z", "Delivered")
    call_command("poll_shipments")
    assert "moved:delivered" in capsys.readouterr().out
    assert Shipment.objects.get(pk=shipment.pk).status == "delivered"
    other = _shipped(channel, "T-2")
    assert shipments_poll_due.delay().get() == 1
    assert Shipment.objects.get(pk=other.pk).status == "delivered"
