"""GET /api/v1/availability/?sku=A&sku=B: what the calling channel can sell now."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from inventory.models import Location
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/availability/"


@pytest.fixture
def stocked(channel, warehouse):
    second = factories.LocationFactory(code="3PL", priority=5)
    closed = factories.LocationFactory(code="CLOSED", priority=2, active=False)
    elsewhere = factories.LocationFactory(code="OTHER", priority=1)  # serves another channel only
    channel.locations.add(second, closed)
    tee = factories.ProductFactory(sku="A")
    mug = factories.ProductFactory(sku="B")
    factories.stock(tee, warehouse, 10)
    factories.stock(tee, second, 5)
    factories.stock(tee, closed, 100)
    factories.stock(tee, elsewhere, 100)
    factories.stock(mug, warehouse, 3)
    factories.place(channel, "R1", [("A", 3)])  # reserves 3 at MAIN
    return tee, mug


def test_available_is_on_hand_minus_reserved_over_the_channels_active_locations(channel_api, stocked):
    response = channel_api.get(URL, {"sku": ["A", "B"]})

    assert response.status_code == 200
    assert response.json() == [{"sku": "A", "available": 12}, {"sku": "B", "available": 3}]


def test_another_channel_sees_its_own_locations(stocked):
    other, key = factories.channel_with_key("marketplace")
    other.locations.add(Location.objects.get(code="OTHER"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert client.get(URL, {"sku": "A"}).json() == [{"sku": "A", "available": 100}]


def test_a_sku_without_stock_is_zero_and_an_unknown_sku_is_left_out(channel_api, stocked):
    factories.ProductFactory(sku="EMPTY")

    response = channel_api.get(URL, {"sku": ["EMPTY", "NOPE", "B"]})

    assert response.json() == [{"sku": "EMPTY", "available": 0}, {"sku": "B", "available": 3}]


def test_no_sku_is_400(channel_api, stocked):
    response = channel_api.get(URL)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "sku"


def test_staff_asks_as_a_channel(staff_api, stocked):
    response = staff_api.get(URL, {"sku": "A", "channel": "webstore"})

    assert response.json() == [{"sku": "A", "available": 12}]


def test_a_nul_byte_in_the_query_is_a_400_not_a_500(staff_api):
    # PostgreSQL cannot compare text holding NUL bytes; the edge refuses them for every API path.
    response = staff_api.get("/api/v1/availability/?sku=TEE%00RED")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "null_characters_not_allowed",
            "detail": "Query parameters may not contain NUL (0x00) bytes.",
            "attr": "sku",
        }
    ]
