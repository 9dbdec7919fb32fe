"""A channel's backorder policy (orders.backorder_policy): allow, reject at placement, cancel after N days."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.celery import app as celery_app
from inventory.models import StockItem
from orders import backorder_policy, bulk_placement, tasks
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db

TEN = Decimal("10.00")


@pytest.fixture
def tee(warehouse):
    return factories.ProductFactory(sku="TEE", price=TEN)


@pytest.fixture
def mug(warehouse):
    return factories.ProductFactory(sku="MUG", price=Decimal("4.00"))


def _policy(channel, policy: str, days: int | None = None):
    channel.backorder_policy, channel.backorder_cancel_after_days = policy, days
    channel.save(update_fields=["backorder_policy", "backorder_cancel_after_days"])


def _lines(order: Order) -> dict[str, tuple[int, int, int]]:
    """sku -> (reserved, backordered, cancelled)"""
    return {
        line.sku: (line.quantity_reserved, line.quantity_backordered, line.quantity_cancelled)
        for line in order.lines.order_by("id")
    }


def _event(order: Order, event_type: str) -> dict:
    return order.events.get(type=event_type).data


# --- allow (the default) -----------------------------------------------------------------------------------------


def test_a_channel_backorders_by_default(channel, warehouse, tee):
    factories.stock(tee, warehouse, 3)
    order = factories.place(channel, lines=[("TEE", 5)])

    assert channel.backorder_policy == "allow"
    assert order.status == Order.Status.BACKORDERED
    assert _lines(order) == {"TEE": (3, 2, 0)}
    assert order.total == Decimal("50.00")


# --- reject ------------------------------------------------------------------------------------------------------


def test_reject_refuses_the_units_stock_cannot_cover_and_charges_only_the_rest(channel, warehouse, tee, mug):
    _policy(channel, "reject")
    factories.stock(tee, warehouse, 3)
    factories.stock(mug, warehouse, 2)

    order = factories.place(channel, lines=[("TEE", 5), ("MUG", 2)])

    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    assert _lines(order) == {"TEE": (3, 0, 2), "MUG": (2, 0, 0)}
    assert (order.subtotal, order.total) == (Decimal("38.00"), Decimal("38.00"))  # 3 x 10 + 2 x 4
    assert _event(order, "received") == {"rejected": {"TEE": 2}, "backorder_policy": "reject"}
    routed = {line["sku"]: line for line in _event(order, "routed")["lines"]}
    assert (routed["TEE"]["rule"], routed["TEE"]["backordered"], routed["TEE"]["rejected"]) == ("split", 0, 2)
    assert "2 rejected" in routed["TEE"]["detail"]
    assert routed["MUG"]["rejected"] == 0
    assert StockItem.objects.get(product=tee).reserved == 3


def test_reject_with_nothing_in_stock_cancels_the_order_out_of_stock(channel, warehouse, tee):
    _policy(channel, "reject")

    order = factories.place(channel, lines=[("TEE", 4)])

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancelled_at is not None
    assert _lines(order) == {"TEE": (0, 0, 4)}
    assert order.total == Decimal("0.00")
    assert _event(order, "cancelled") == {
        "reason": "out_of_stock",
        "rejected": {"TEE": 4},
        "backorder_policy": "reject",
    }
    assert [e.type for e in order.events.order_by("id")] == ["placed", "routed", "cancelled"]
    routed = _event(order, "routed")["lines"][0]
    assert (routed["rule"], routed["rejected"]) == ("rejected", 4)
    assert not order.shipments.exists()


def test_reject_keeps_the_hold_of_an_unpaid_order_and_names_the_rejected_units(channel, warehouse, tee, mug):
    _policy(channel, "reject")
    factories.stock(mug, warehouse, 1)

    held = factories.place(channel, "HELD", [("TEE", 2), ("MUG", 1)], payment_status="pending")
    gone = factories.place(channel, "GONE", [("TEE", 2)], payment_status="pending")

    held.refresh_from_db()
    gone.refresh_from_db()
    assert (held.status, held.hold_reason) == (Order.Status.ON_HOLD, "payment_pending")
    assert _event(held, "on_hold") == {
        "reason": "payment_pending",
        "rejected": {"TEE": 2},
        "backorder_policy": "reject",
    }
    assert held.total == Decimal("4.00")
    assert (gone.status, gone.hold_reason) == (Order.Status.CANCELLED, "")  # nothing left to pay for


def test_the_api_answers_a_rejected_order_with_its_cancelled_units_and_totals(channel, channel_api, warehouse, tee):
    _policy(channel, "reject")
    factories.stock(tee, warehouse, 1)
    payload = factories.order_payload("WEB-REJ", lines=[{"sku": "TEE", "quantity": 3}])

    response = channel_api.post("/api/v1/orders/", payload, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "received"
    [line] = body["lines"]
    assert (line["quantity"], line["quantity_reserved"], line["quantity_backordered"], line["quantity_cancelled"]) == (
        3,
        1,
        0,
        2,
    )
    assert (body["totals"]["subtotal"], body["totals"]["total"]) == ("10.00", "10.00")
    routing = channel_api.get(f"/api/v1/orders/{body['id']}/routing/").json()
    assert routing["lines"][0]["rejected"] == 2


def test_bulk_imports_follow_the_reject_policy_too(channel, warehouse, tee):
    _policy(channel, "reject")
    factories.stock(tee, warehouse, 3)
    batch = [factories.order_input("B-1", [("TEE", 2)]), factories.order_input("B-2", [("TEE", 2)])]
    batch.append(factories.order_input("B-3", [("TEE", 1)]))

    first, second, third = bulk_placement.place_orders(channel=channel, batch=batch, actor="test")

    assert [p.order.status for p in (first, second, third)] == ["received", "received", "cancelled"]
    assert _lines(second.order) == {"TEE": (1, 0, 1)}
    assert second.order.total == TEN
    assert _event(third.order, "cancelled")["reason"] == "out_of_stock"


# --- cancel_after_days -------------------------------------------------------------------------------------------


def _days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def test_backorders_past_the_channels_days_are_cancelled(channel, warehouse, tee, mug):
    _policy(channel, "cancel_after_days", 3)
    factories.stock(tee, warehouse, 1)
    nothing_held = factories.place(channel, "NONE", [("MUG", 2)], placed_at=_days_ago(4))
    part_held = factories.place(channel, "PART", [("TEE", 3)], placed_at=_days_ago(4), email="b@example.com")
    recent = factories.place(channel, "NEW", [("MUG", 1)], placed_at=_days_ago(2), email="c@example.com")

    changed = backorder_policy.backorders_cancel_overdue()

    assert sorted(o.pk for o in changed) == sorted([nothing_held.pk, part_held.pk])
    for order in (nothing_held, part_held, recent):
        order.refresh_from_db()
    # Nothing of it reserved or shipped: the whole order goes, out of stock.
    assert nothing_held.status == Order.Status.CANCELLED
    assert _lines(nothing_held) == {"MUG": (0, 0, 2)}
    assert nothing_held.total == Decimal("0.00")
    assert _event(nothing_held, "cancelled") == {"reason": "out_of_stock"}
    assert _event(nothing_held, "backorder_cancelled") == {
        "reason": "out_of_stock",
        "backorder_policy": "cancel_after_days",
        "after_days": 3,
        "cancelled": {"MUG": 2},
    }
    # One unit reserved: only the 2 waiting units go; the order is received and its shipment stays.
    assert part_held.status == Order.Status.RECEIVED
    assert _lines(part_held) == {"TEE": (1, 0, 2)}
    assert part_held.total == TEN
    assert part_held.shipments.get().status == "pending"
    assert StockItem.objects.get(product=tee).reserved == 1
    # Not yet N days old.
    assert (recent.status, _lines(recent)) == (Order.Status.BACKORDERED, {"MUG": (0, 1, 0)})
    # A second sweep finds nothing left to do.
    assert backorder_policy.backorders_cancel_overdue() == []


def test_other_policies_never_cancel_backorders(channel, warehouse, tee):
    factories.place(channel, "OLD", [("TEE", 2)], placed_at=_days_ago(400))
    other, _ = factories.channel_with_key("phone")
    other.locations.add(warehouse)
    _policy(other, "reject")

    assert backorder_policy.backorders_overdue(now=timezone.now()) == []


def test_the_hourly_beat_task_runs_the_sweep(channel, warehouse, tee):
    _policy(channel, "cancel_after_days", 1)
    order = factories.place(channel, lines=[("TEE", 1)], placed_at=_days_ago(2))

    assert celery_app.conf.beat_schedule["cancel-overdue-backorders"]["task"] == (
        "orders.tasks.backorders_cancel_overdue_task"
    )
    assert tasks.backorders_cancel_overdue_task.delay().get() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_cancel_after_days_needs_a_number_of_days(channel):
    channel.backorder_policy = "cancel_after_days"
    with pytest.raises(ValidationError, match="needs N"):
        channel.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        channel.save()


def test_the_channel_admin_edits_the_backorder_policy(client, manager, channel):
    client.force_login(manager)
    page = client.get(f"/admin/channels_app/saleschannel/{channel.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="backorder_policy"' in html
    assert 'name="backorder_cancel_after_days"' in html


def test_the_channel_backorders_command_sets_the_policy(channel):
    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("channel_backorders", "webstore", "--policy", "cancel_after_days", "--days", "14", stdout=out)
    channel.refresh_from_db()
    assert (channel.backorder_policy, channel.backorder_cancel_after_days) == ("cancel_after_days", 14)
    assert out.getvalue().strip() == "Channel webstore: backorder policy cancel_after_days after 14 days."

    with pytest.raises(CommandError, match="days: cancel_after_days needs days"):
        call_command("channel_backorders", "webstore", "--policy", "cancel_after_days")
    with pytest.raises(CommandError, match="days: days applies only to cancel_after_days, not reject"):
        call_command("channel_backorders", "webstore", "--policy", "reject", "--days", "3")
    with pytest.raises(CommandError, match="Unknown channel"):
        call_command("channel_backorders", "nope", "--policy", "reject")
    channel.refresh_from_db()
    assert channel.backorder_cancel_after_days == 14  # nothing half-written
    call_command("channel_backorders", "webstore", "--policy", "reject", stdout=out)
    channel.refresh_from_db()
    assert (channel.backorder_policy, channel.backorder_cancel_after_days) == ("reject", None)


def test_a_delivered_order_whose_rest_waited_too_long_ends_delivered(channel, warehouse, tee):
    from orders import fulfilment

    _policy(channel, "cancel_after_days", 5)
    factories.stock(tee, warehouse, 1)
    order = factories.place(channel, lines=[("TEE", 3)], placed_at=_days_ago(6))
    shipment = order.shipments.get()
    fulfilment.shipment_ship(shipment=shipment, carrier="ups", tracking_number="1Z1", actor="test")
    fulfilment.shipment_deliver(shipment=shipment, actor="test")
    order.refresh_from_db()
    assert order.status == Order.Status.BACKORDERED  # delivered in part; 2 units still wait

    backorder_policy.backorders_cancel_overdue()

    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    line = order.lines.get()
    assert (line.quantity_shipped, line.quantity_backordered, line.quantity_cancelled) == (1, 0, 2)
    assert order.total == TEN
