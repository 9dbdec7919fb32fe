"""GET /api/v1/stock/ and POST /api/v1/stock/adjustments/."""

from __future__ import annotations

import pytest

from inventory.models import StockItem, StockMovement
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/stock/"
ADJUST = "/api/v1/stock/adjustments/"


@pytest.fixture
def tee(warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M")
    item = factories.stock(product, warehouse, 10, bin="A-01")
    item.reorder_point, item.reorder_quantity = 4, 20
    item.save()
    return product


def test_stock_rows_show_on_hand_reserved_available_bin_and_reorder_figures(staff_api, channel, tee):
    factories.place(channel, lines=[("TEE-RED-M", 3)])

    response = staff_api.get(URL)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert {k: v for k, v in row.items() if k != "id"} == {
        "sku": "TEE-RED-M",
        "location": "MAIN",
        "on_hand": 10,
        "reserved": 3,
        "available": 7,
        "bin": "A-01",
        "reorder_point": 4,
        "reorder_quantity": 20,
        "max_stock": None,
    }


def test_filters_by_sku_and_location(staff_api, warehouse, tee):
    other = factories.LocationFactory(code="EAST")
    mug = factories.ProductFactory(sku="MUG")
    factories.stock(tee, other, 1)
    factories.stock(mug, warehouse, 2)

    def rows(params):
        return sorted((r["sku"], r["location"]) for r in staff_api.get(URL, params).json()["results"])

    assert rows({"sku": "TEE-RED-M"}) == [("TEE-RED-M", "EAST"), ("TEE-RED-M", "MAIN")]
    assert rows({"location": "MAIN"}) == [("MUG", "MAIN"), ("TEE-RED-M", "MAIN")]
    assert rows({"sku": "MUG", "location": "EAST"}) == []
    assert len(rows({"sku": "", "location": ""})) == 3  # API.md's "?sku=&location=": empty means any


@pytest.mark.parametrize("size", [1, 20])
def test_list_costs_the_same_queries_for_1_and_20_rows(staff_api, warehouse, size, django_assert_num_queries):
    for i in range(size):
        factories.stock(factories.ProductFactory(sku=f"P{i:02d}"), warehouse, i + 1)

    with django_assert_num_queries(2):  # token, page with product and location joined
        response = staff_api.get(URL)

    assert len(response.json()["results"]) == size


def test_an_adjustment_writes_a_movement_and_changes_on_hand(staff_api, tee):
    response = staff_api.post(
        ADJUST, {"sku": "TEE-RED-M", "location": "MAIN", "delta": -2, "reason": "damaged in storage"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("sku", "location", "kind", "quantity", "reason", "on_hand", "reserved")} == {
        "sku": "TEE-RED-M",
        "location": "MAIN",
        "kind": "adjustment",
        "quantity": -2,
        "reason": "damaged in storage",
        "on_hand": 8,
        "reserved": 0,
    }
    item = StockItem.objects.get(product=tee)
    assert item.on_hand == 8
    assert sum(item.movements.values_list("quantity", flat=True)) == 8
    assert item.movements.latest("id").actor == "user:manager"


def test_an_adjustment_below_what_is_reserved_is_409_and_changes_nothing(staff_api, channel, tee):
    factories.place(channel, lines=[("TEE-RED-M", 6)])

    response = staff_api.post(
        ADJUST, {"sku": "TEE-RED-M", "location": "MAIN", "delta": -5, "reason": "count"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "below_reserved"
    item = StockItem.objects.get(product=tee)
    assert (item.on_hand, item.reserved) == (10, 6)
    assert StockMovement.objects.filter(kind="adjustment").count() == 0


def test_an_adjustment_down_to_exactly_what_is_reserved_is_allowed(staff_api, channel, tee):
    factories.place(channel, lines=[("TEE-RED-M", 6)])

    response = staff_api.post(
        ADJUST, {"sku": "TEE-RED-M", "location": "MAIN", "delta": -4, "reason": "count"}, format="json"
    )

    assert response.status_code == 201
    assert (response.json()["on_hand"], response.json()["reserved"]) == (6, 6)


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"sku": "NOPE", "location": "MAIN", "delta": 1, "reason": "x"}, "sku"),
        ({"sku": "TEE-RED-M", "location": "NOPE", "delta": 1, "reason": "x"}, "location"),
        ({"sku": "TEE-RED-M", "location": "MAIN", "delta": 0, "reason": "x"}, "delta"),
        ({"sku": "TEE-RED-M", "location": "MAIN", "delta": "many", "reason": "x"}, "delta"),
        ({"sku": "TEE-RED-M", "location": "MAIN", "delta": 1.5, "reason": "x"}, "delta"),
        ({"sku": "TEE-RED-M", "location": "MAIN", "delta": 1}, "reason"),
    ],
)
def test_bad_adjustments_are_400_naming_the_field(staff_api, tee, payload, attr):
    response = staff_api.post(ADJUST, payload, format="json")

    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == [attr]


def test_receiving_stock_allocates_waiting_backorders_oldest_first_and_partly(
    staff_api, channel, warehouse, django_capture_on_commit_callbacks
):
    mug = factories.ProductFactory(sku="MUG")
    newer = factories.place(channel, "NEWER", [("MUG", 3)], placed_at=_at(12))
    older = factories.place(channel, "OLDER", [("MUG", 2)], placed_at=_at(10))

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(
            ADJUST, {"sku": "MUG", "location": "MAIN", "delta": 4, "reason": "found a box"}, format="json"
        )

    assert response.status_code == 201
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.status == Order.Status.RECEIVED
    assert older.lines.get().quantity_reserved == 2
    assert newer.status == Order.Status.BACKORDERED
    newer_line = newer.lines.get()
    assert (newer_line.quantity_reserved, newer_line.quantity_backordered) == (2, 1)
    assert StockItem.objects.get(product=mug).reserved == 4


def _at(day: int):
    from datetime import UTC, datetime

    return datetime(2026, 11, day, tzinfo=UTC)
