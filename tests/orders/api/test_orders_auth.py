"""Who may call the orders API (API.md "Auth"): 401 without a key, 404 across channels, staff by permission."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from channels_app.models import ChannelKey
from channels_app.services import channel_key_revoke
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee(warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M")
    factories.stock(product, warehouse, 50)
    return product


@pytest.fixture
def other_channel(warehouse):
    channel, key = factories.channel_with_key("marketplace")
    channel.locations.add(warehouse)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return channel, client


@pytest.fixture
def theirs(other_channel, tee):
    return factories.place(other_channel[0], "THEIRS")


def staff_client(*perms: str, staff: bool = True) -> APIClient:
    user = factories.UserFactory(is_staff=staff)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {factories.staff_token(user)}")
    return client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/orders/"),
        ("post", "/api/v1/orders/"),
        ("get", "/api/v1/orders/1/"),
        ("post", "/api/v1/orders/1/cancel/"),
        ("get", "/api/v1/orders/1/events/"),
        ("get", "/api/v1/availability/?sku=TEE-RED-M"),
        ("get", "/api/v1/products/"),
        ("get", "/api/v1/stock/"),
    ],
)
@pytest.mark.parametrize("header", [None, "Token ck_0000_wrong", "Token not-a-real-token", "Bearer abc", "Token"])
def test_no_key_or_a_bad_key_is_401(api, channel, method, path, header):
    if header:
        api.credentials(HTTP_AUTHORIZATION=header)

    response = getattr(api, method)(path, {}, format="json")

    assert response.status_code == 401
    assert response.json()["type"] == "client_error"
    assert response["WWW-Authenticate"] == "Token"


def test_a_revoked_key_is_401(channel_api, channel, tee):
    assert channel_api.get("/api/v1/orders/").status_code == 200
    channel_key_revoke(key=ChannelKey.objects.get(channel=channel))

    assert channel_api.get("/api/v1/orders/").status_code == 401


def test_a_key_of_an_inactive_channel_is_401(channel_api, channel):
    channel.active = False
    channel.save()

    assert channel_api.get("/api/v1/orders/").status_code == 401


def test_the_key_scheme_is_case_insensitive_like_drf_tokens(channel, channel_with_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"token {channel_with_key[1]}")

    assert client.get("/api/v1/orders/").status_code == 200


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", "cancel/"), ("get", "events/")],
)
def test_another_channels_order_is_404_and_left_alone(channel_api, theirs, method, suffix):
    response = getattr(channel_api, method)(f"/api/v1/orders/{theirs.pk}/{suffix}", {}, format="json")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.RECEIVED


def test_a_channel_lists_only_its_own_orders(channel_api, channel, theirs):
    mine = factories.place(channel, "MINE")

    listed = channel_api.get("/api/v1/orders/").json()["results"]
    asked_for_theirs = channel_api.get("/api/v1/orders/", {"channel": "marketplace"}).json()["results"]
    by_external_id = channel_api.get("/api/v1/orders/", {"external_id": "THEIRS"}).json()["results"]

    assert [o["id"] for o in listed] == [mine.pk]
    assert asked_for_theirs == []
    assert by_external_id == []


def test_a_channel_key_cannot_place_an_order_for_another_channel(channel_api, other_channel, tee):
    response = channel_api.post("/api/v1/orders/", factories.order_payload(channel="marketplace"), format="json")

    assert response.status_code in (400, 403)
    assert not Order.objects.filter(channel=other_channel[0]).exists()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/products/", {}),
        ("post", "/api/v1/products/", {"sku": "X", "name": "X"}),
        ("get", "/api/v1/locations/", {}),
        ("post", "/api/v1/locations/", {"code": "X", "name": "X"}),
        ("get", "/api/v1/stock/", {}),
        ("post", "/api/v1/stock/adjustments/", {"sku": "TEE-RED-M", "location": "MAIN", "delta": 5, "reason": "x"}),
    ],
)
def test_a_channel_key_on_a_staff_endpoint_is_403(channel_api, tee, method, path, body):
    response = getattr(channel_api, method)(path, body, format="json")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"


def test_staff_places_an_order_for_a_named_channel(staff_api, channel, tee):
    response = staff_api.post("/api/v1/orders/", factories.order_payload(channel="webstore"), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["channel"] == "webstore"
    assert Order.objects.get().events.first().actor == "user:manager"


def test_staff_must_name_an_existing_channel(staff_api, channel, tee):
    missing = staff_api.post("/api/v1/orders/", factories.order_payload(), format="json")
    unknown = staff_api.post("/api/v1/orders/", factories.order_payload(channel="nope"), format="json")

    assert (missing.status_code, unknown.status_code) == (400, 400)
    assert missing.json()["errors"][0]["attr"] == "channel"
    assert unknown.json()["errors"][0]["attr"] == "channel"
    assert not Order.objects.exists()


def test_staff_cannot_place_an_order_for_an_inactive_channel(staff_api, channel, tee):
    channel.active = False
    channel.save()

    response = staff_api.post("/api/v1/orders/", factories.order_payload(channel="webstore"), format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "channel"


def test_staff_sees_every_channels_orders(staff_api, channel, theirs):
    mine = factories.place(channel, "MINE")

    listed = staff_api.get("/api/v1/orders/").json()["results"]

    assert {o["id"] for o in listed} == {mine.pk, theirs.pk}


def test_staff_without_the_model_permission_is_403(channel, theirs):
    nobody = staff_client()

    assert nobody.get("/api/v1/orders/").status_code == 403
    assert nobody.get(f"/api/v1/orders/{theirs.pk}/").status_code == 403
    assert nobody.post(f"/api/v1/orders/{theirs.pk}/cancel/", {}, format="json").status_code == 403
    assert nobody.post("/api/v1/orders/", factories.order_payload(channel="webstore"), format="json").status_code == 403


def test_staff_who_may_view_orders_may_not_cancel_them(channel, theirs):
    viewer = staff_client("orders.view_order")

    assert viewer.get(f"/api/v1/orders/{theirs.pk}/").status_code == 200
    assert viewer.get(f"/api/v1/orders/{theirs.pk}/events/").status_code == 200
    assert viewer.post(f"/api/v1/orders/{theirs.pk}/cancel/", {}, format="json").status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.RECEIVED


def test_staff_who_may_change_orders_may_cancel_them(channel, theirs):
    clerk = staff_client("orders.view_order", "orders.change_order")

    response = clerk.post(f"/api/v1/orders/{theirs.pk}/cancel/", {}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_a_user_who_is_not_staff_is_403_even_with_permissions(channel, theirs):
    outsider = staff_client("orders.view_order", staff=False)

    assert outsider.get("/api/v1/orders/").status_code == 403
