"""Releasing holds (orders.services.order_release_hold, order_payment_confirm): the service, the staff
endpoint ``POST /api/v1/orders/{id}/release-hold/``, ``confirm-payment/`` and the admin actions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from rest_framework.test import APIClient

from orders import services
from orders.errors import NotOnHold
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee(warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M")
    factories.stock(product, warehouse, 3)
    return product


@pytest.fixture
def unpaid(channel, tee) -> Order:
    return factories.place(channel, "UNPAID", [("TEE-RED-M", 2)], payment_status="pending")


def refreshed(order: Order) -> Order:
    order.refresh_from_db()
    return order


# --- The service --------------------------------------------------------------------------------------------------


def test_release_moves_a_fully_reserved_order_to_received(unpaid):
    assert (unpaid.status, unpaid.hold_reason) == ("on_hold", "payment_pending")
    services.order_release_hold(order=unpaid, actor="user:boss", note="paid by phone")
    order = refreshed(unpaid)
    assert (order.status, order.hold_reason, order.received_at is not None) == ("received", "", True)
    event = order.events.last()
    assert (event.type, event.actor, event.data) == (
        "received",
        "user:boss",
        {"released_hold": "payment_pending", "note": "paid by phone"},
    )


def test_release_moves_an_order_short_of_stock_to_backordered(channel, tee):
    order = factories.place(channel, "SHORT", [("TEE-RED-M", 5)], payment_status="pending")  # 3 on hand
    assert order.lines.get().quantity_backordered == 2
    services.order_release_hold(order=order, actor="test")
    assert refreshed(order).status == Order.Status.BACKORDERED


def test_release_of_an_order_not_on_hold_is_refused(channel, tee):
    order = factories.place(channel, "OK", [("TEE-RED-M", 1)])
    with pytest.raises(NotOnHold) as refused:
        services.order_release_hold(order=order, actor="test")
    assert (refused.value.code, refused.value.status) == ("not_on_hold", 409)
    assert refreshed(order).status == Order.Status.RECEIVED


def test_payment_confirmation_releases_a_payment_hold(unpaid):
    services.order_payment_confirm(order=unpaid, actor="channel:webstore", reference="pi_123")
    order = refreshed(unpaid)
    assert (order.status, order.payment_status, order.hold_reason) == ("received", "paid", "")
    types = list(order.events.values_list("type", "data"))
    assert types[-2:] == [
        ("payment_confirmed", {"reference": "pi_123"}),
        ("received", {"resolved_hold": "payment_pending"}),
    ]
    # Again: nothing changes, no new event (a provider's retry).
    count = order.events.count()
    services.order_payment_confirm(order=order, actor="channel:webstore")
    assert order.events.count() == count


def test_payment_confirmation_leaves_other_holds_alone(channel, tee):
    order = factories.place(channel, "BAD-ADDR", [("TEE-RED-M", 1)])
    Order.objects.filter(pk=order.pk).update(
        status="on_hold", hold_reason="address_invalid", payment_status="pending", ship_postal_code="1"
    )
    services.order_payment_confirm(order=order, actor="test")
    order = refreshed(order)
    assert (order.status, order.hold_reason, order.payment_status) == ("on_hold", "address_invalid", "paid")


def test_releasing_a_payment_hold_with_a_bad_address_moves_to_the_address_hold(channel, tee):
    order = factories.place(channel, "BOTH", [("TEE-RED-M", 1)], payment_status="pending")
    Order.objects.filter(pk=order.pk).update(ship_postal_code="")
    services.order_release_hold(order=order, actor="user:boss")
    order = refreshed(order)
    assert (order.status, order.hold_reason) == ("on_hold", "address_invalid")
    changed = order.events.get(type="hold_changed")
    assert changed.data == {"released_hold": "payment_pending", "note": "", "reason": "address_invalid"}
    # The manager overrides the address check too: released, and not held again for what was released before.
    services.order_release_hold(order=order, actor="user:boss", note="customer confirmed by phone")
    assert refreshed(order).status == Order.Status.RECEIVED


# --- The staff endpoint -------------------------------------------------------------------------------------------


def release(client, order: Order, **body):
    return client.post(f"/api/v1/orders/{order.pk}/release-hold/", body, format="json")


def test_manager_releases_a_hold_through_the_api(staff_api, unpaid):
    response = release(staff_api, unpaid, note="checked")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["hold_reason"]) == ("received", "")
    assert refreshed(unpaid).events.last().data == {"released_hold": "payment_pending", "note": "checked"}


def test_release_of_an_order_not_on_hold_is_409(staff_api, channel, tee):
    order = factories.place(channel, "OK", [("TEE-RED-M", 1)])
    response = release(staff_api, order)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "not_on_hold"


def staff_client(username: str, *perms: str) -> APIClient:
    user = factories.UserFactory(username=username, is_staff=True)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="orders"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {factories.staff_token(user)}")
    return client


def test_only_staff_with_the_release_permission_may_release(unpaid):
    clerk = staff_client("clerk", "view_order", "change_order")
    assert release(clerk, unpaid).status_code == 403
    assert refreshed(unpaid).status == Order.Status.ON_HOLD
    supervisor = staff_client("supervisor", "view_order", "release_hold")
    assert release(supervisor, unpaid).status_code == 200
    assert refreshed(unpaid).status == Order.Status.RECEIVED


def test_channel_key_cannot_release_holds_but_confirms_its_payments(channel_api, unpaid):
    assert release(channel_api, unpaid).status_code == 403
    response = channel_api.post(f"/api/v1/orders/{unpaid.pk}/confirm-payment/", {"reference": "pi_9"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["payment_status"]) == ("received", "paid")


def test_other_channels_order_is_404_for_a_channel_key(channel_api, tee):
    other = factories.ChannelFactory(code="other")
    other.locations.add(*factories.LocationFactory._meta.model.objects.all())
    order = factories.place(other, "THEIRS", [("TEE-RED-M", 1)], payment_status="pending")
    response = channel_api.post(f"/api/v1/orders/{order.pk}/confirm-payment/", {}, format="json")
    assert response.status_code == 404
    assert refreshed(order).payment_status == "pending"


def test_no_key_is_401(api, unpaid):
    assert release(api, unpaid).status_code == 401


# --- The admin actions --------------------------------------------------------------------------------------------


def admin_client(client, django_user_model, username: str, *perms: str):
    user = django_user_model.objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="orders"))
    client.force_login(user)
    return client


def post_action(client, action: str, *orders: Order):
    return client.post(
        reverse("admin:orders_order_changelist"),
        {"action": action, "_selected_action": [o.pk for o in orders]},
        follow=True,
    )


def test_admin_action_releases_holds_and_reports_the_others(client, django_user_model, channel, tee, unpaid):
    admin = admin_client(client, django_user_model, "lead", "view_order", "change_order", "release_hold")
    received = factories.place(channel, "OK", [("TEE-RED-M", 1)])
    response = post_action(admin, "release_holds", unpaid, received)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"Released 1 order(s): {unpaid.number}." in texts
    assert any(t.startswith(f"{received.number} not released:") and "not on hold" in t for t in texts)
    assert refreshed(unpaid).events.last().actor == "user:lead"


def test_release_action_is_offered_only_with_the_permission(client, django_user_model, unpaid):
    admin = admin_client(client, django_user_model, "clerk", "view_order", "change_order")
    page = admin.get(reverse("admin:orders_order_changelist")).content.decode()
    assert 'value="release_holds"' not in page
    assert 'value="confirm_payments"' in page
    post_action(admin, "release_holds", unpaid)
    assert refreshed(unpaid).status == Order.Status.ON_HOLD


def test_admin_marks_payment_received(client, django_user_model, unpaid):
    admin = admin_client(client, django_user_model, "clerk", "view_order", "change_order")
    response = post_action(admin, "confirm_payments", unpaid)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"Payment received for 1 order(s): {unpaid.number} (received)." in texts
    assert refreshed(unpaid).payment_status == "paid"


def test_stock_that_arrived_during_the_hold_is_given_on_release(
    channel, tee, warehouse, django_capture_on_commit_callbacks
):
    order = factories.place(channel, "WAITING", [("TEE-RED-M", 5)], payment_status="pending")  # 3 reserved, 2 short
    factories.stock(tee, warehouse, 2)  # arrives while it is held: held orders take no stock
    assert order.lines.get().quantity_backordered == 2
    with django_capture_on_commit_callbacks(execute=True):
        services.order_release_hold(order=order, actor="user:boss")
    order = refreshed(order)
    assert order.status == Order.Status.RECEIVED
    line = order.lines.get()
    assert (line.quantity_reserved, line.quantity_backordered) == (5, 0)
