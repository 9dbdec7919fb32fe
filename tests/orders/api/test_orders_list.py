"""GET /api/v1/orders/ and /{id}/: cursor pagination by -placed_at, every filter, constant query count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orders import fulfilment
from orders.models import Customer, Order
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def catalogue(channel, warehouse):
    """Three SKUs over two locations (CAP only at the 3PL), so orders get several lines and shipments."""
    backup = factories.LocationFactory(code="3PL", priority=5, kind="third_party")
    channel.locations.add(backup)
    for sku, location in (("TEE", warehouse), ("MUG", warehouse), ("CAP", backup)):
        factories.stock(factories.ProductFactory(sku=sku), location, 1000)
    return warehouse, backup


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [o["id"] for o in response.json()["results"]]


def test_list_is_newest_placed_first_with_next_and_previous_cursors(channel_api, channel, catalogue):
    # Created in an order that differs from placement, so -id would give another answer.
    orders = {day: factories.place(channel, f"E{day}", [("TEE", 1)], placed_at=_at(day)) for day in (3, 1, 5, 2, 4)}
    newest_first = [orders[day].pk for day in (5, 4, 3, 2, 1)]

    first = channel_api.get(URL, {"page_size": 2})
    body = first.json()
    assert set(body) == {"next", "previous", "results"}
    assert ids(first) == newest_first[:2]
    assert body["previous"] is None
    assert "cursor=" in body["next"]

    second = channel_api.get(body["next"])
    assert ids(second) == newest_first[2:4]
    third = channel_api.get(second.json()["next"])
    assert ids(third) == newest_first[4:]
    assert third.json()["next"] is None
    back = channel_api.get(third.json()["previous"])
    assert ids(back) == newest_first[2:4]


def test_page_size_above_200_is_capped_at_200(channel_api, channel):
    customer = Customer.objects.create(email="bulk@example.com")
    Order.objects.bulk_create(
        Order(
            channel=channel, external_id=f"B{i}", customer=customer, placed_at=_at(1) + timedelta(minutes=i),
            currency="USD", ship_name="A", ship_line1="1", ship_city="C", ship_postal_code="1", ship_country="US",
        )
        for i in range(205)
    )  # fmt: skip

    big = channel_api.get(URL, {"page_size": 1000})
    default = channel_api.get(URL)

    assert len(ids(big)) == 200
    assert big.json()["next"] is not None
    assert len(ids(default)) == 50


def test_detail_returns_the_order(channel_api, channel, catalogue):
    order = factories.place(channel, "E1", [("TEE", 2), ("MUG", 1)])

    response = channel_api.get(f"{URL}{order.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["number"], body["external_id"]) == (order.pk, order.number, "E1")
    assert [(line["sku"], line["quantity"]) for line in body["lines"]] == [("TEE", 2), ("MUG", 1)]


def test_an_unknown_order_is_404_in_the_envelope(channel_api, channel):
    response = channel_api.get(f"{URL}999999/")

    assert response.status_code == 404
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": response.json()["errors"][0]["detail"], "attr": None}],
    }


@pytest.fixture
def mixed(channel, catalogue):
    """Orders in several states, times, SKUs and customers."""
    received = factories.place(channel, "R-1", [("TEE", 1)], placed_at=_at(1), email="ana@example.com")
    on_hold = factories.place(channel, "H-1", [("MUG", 1)], placed_at=_at(2), payment_status="pending")
    factories.ProductFactory(sku="NONE")
    backordered = factories.place(channel, "B-1", [("NONE", 1), ("CAP", 1)], placed_at=_at(3), email="bo@example.com")
    return {"received": received, "on_hold": on_hold, "backordered": backordered}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "received"}, ["received"]),
        ({"status": ["received", "backordered"]}, ["backordered", "received"]),
        ({"status": "cancelled"}, []),
        ({"external_id": "H-1"}, ["on_hold"]),
        ({"external_id": "h-1"}, []),
        ({"placed_after": "2026-11-02T12:00:00Z"}, ["backordered", "on_hold"]),
        ({"placed_before": "2026-11-02T12:00:00Z"}, ["received"]),
        ({"placed_after": "2026-11-02T00:00:00Z", "placed_before": "2026-11-03T00:00:00Z"}, ["on_hold"]),
        # an offset PostgreSQL would refuse (beyond +-15:59) is the same instant in UTC
        ({"placed_after": "2026-11-01T14:00:00-21:59", "placed_before": "2026-11-03T10:00:00+21:00"}, ["on_hold"]),
        ({"sku": "CAP"}, ["backordered"]),
        ({"sku": "TEE"}, ["received"]),
        ({"customer_email": "BO@example.com"}, ["backordered"]),
        ({"status": "on_hold", "sku": "MUG"}, ["on_hold"]),
    ],
)
def test_filters(channel_api, mixed, params, expected):
    assert ids(channel_api.get(URL, params)) == [mixed[name].pk for name in expected]


def test_updated_after_finds_what_changed_since(channel_api, mixed):
    Order.objects.update(updated_at=_at(1))
    Order.objects.filter(pk=mixed["on_hold"].pk).update(updated_at=_at(20))

    assert ids(channel_api.get(URL, {"updated_after": "2026-11-10T00:00:00Z"})) == [mixed["on_hold"].pk]
    assert len(ids(channel_api.get(URL, {"updated_after": "2026-11-01T00:00:00Z"}))) == 3


def test_staff_filter_by_channel(staff_api, mixed, warehouse):
    other, _ = factories.channel_with_key("marketplace")
    other.locations.add(warehouse)
    theirs = factories.place(other, "M-1", [("TEE", 1)])

    assert ids(staff_api.get(URL, {"channel": "marketplace"})) == [theirs.pk]
    assert len(ids(staff_api.get(URL, {"channel": "webstore"}))) == 3
    assert len(ids(staff_api.get(URL))) == 4


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"placed_after": "last tuesday"},
        {"updated_after": "2026-13-45"},
        {"placed_before": "9999-12-31T23:00:00-05:00"},  # past the year 9999 in UTC
    ],
)
def test_a_bad_filter_value_is_400_naming_the_parameter(channel_api, mixed, params):
    response = channel_api.get(URL, params)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == next(iter(params))


def _busy_orders(channel, n: int, tag: str) -> None:
    """Orders with three lines split over two locations, one shipment shipped."""
    for i in range(n):
        order = factories.place(channel, f"{tag}-{i}", [("TEE", 2), ("MUG", 1), ("CAP", 1)])
        shipment = order.shipments.get(location__code="3PL")
        fulfilment.shipment_ship(shipment=shipment, carrier="manual", tracking_number=f"T{tag}{i}", actor="test")


LIST_QUERIES = 5  # key, orders page, lines, shipments, shipment lines


@pytest.mark.parametrize("size", [1, 20])
def test_list_costs_the_same_queries_for_1_and_20_busy_orders(
    channel_api, channel, catalogue, size, django_assert_num_queries
):
    _busy_orders(channel, size, "Q")
    channel_api.get(URL)  # the key's last_used_at is written at most once a minute

    with django_assert_num_queries(LIST_QUERIES):
        response = channel_api.get(URL, {"page_size": 50})

    assert len(ids(response)) == size
    first = response.json()["results"][0]
    assert len(first["lines"]) == 3
    assert len(first["shipments"]) == 2
    assert first["partially_shipped"] is True


@pytest.mark.parametrize("size", [1, 20])
def test_staff_list_costs_the_same_queries_for_1_and_20_orders(
    staff_api, channel, catalogue, size, django_assert_num_queries
):
    _busy_orders(channel, size, "S")

    with django_assert_num_queries(LIST_QUERIES):
        response = staff_api.get(URL, {"page_size": 50})

    assert len(ids(response)) == size
