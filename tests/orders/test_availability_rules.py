"""GET /api/v1/availability/ sells what placing would source: safety stock kept back, full locations left out."""

from __future__ import annotations

import pytest

from inventory.models import ChannelStockRule
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/availability/"


@pytest.fixture
def tee(channel, warehouse):
    east = factories.LocationFactory(code="EAST", priority=2)
    channel.locations.add(east)
    product = factories.ProductFactory(sku="TEE")
    factories.stock(product, warehouse, 10)
    factories.stock(product, east, 3)
    return product


def test_the_channels_safety_stock_is_not_offered(channel, channel_api, staff_api, warehouse, tee):
    ChannelStockRule.objects.create(channel=channel, location=warehouse, safety_stock=4)
    ChannelStockRule.objects.create(channel=channel, location=None, safety_stock=5)  # EAST: 3 - 5 -> 0

    assert channel_api.get(URL, {"sku": "TEE"}).json() == [{"sku": "TEE", "available": 6}]
    # The same figure for staff selling as the channel; the whole network without one.
    assert staff_api.get(URL, {"sku": "TEE", "channel": channel.code}).json() == [{"sku": "TEE", "available": 6}]
    assert staff_api.get(URL, {"sku": "TEE"}).json() == [{"sku": "TEE", "available": 13}]


def test_a_location_at_its_daily_capacity_offers_nothing_today(channel, channel_api, warehouse, tee):
    warehouse.daily_shipment_capacity = 1
    warehouse.save()
    factories.place(channel, "ONE", [("TEE", 1)])  # MAIN's one shipment today

    assert channel_api.get(URL, {"sku": "TEE"}).json() == [{"sku": "TEE", "available": 3}]  # EAST only


def test_what_availability_offers_is_what_an_order_then_reserves(channel, channel_api, warehouse, tee):
    ChannelStockRule.objects.create(channel=channel, location=None, safety_stock=2)
    offered = channel_api.get(URL, {"sku": "TEE"}).json()[0]["available"]

    order = factories.place(channel, "ALL", [("TEE", offered + 1)])

    line = order.lines.get()
    assert (offered, line.quantity_reserved, line.quantity_backordered) == (9, 9, 1)
