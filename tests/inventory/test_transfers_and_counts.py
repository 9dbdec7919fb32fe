"""Transfers between locations and cycle counts: services and staff endpoints."""

import pytest

from inventory import services
from inventory.errors import InsufficientStock, InvalidInput
from inventory.models import StockItem, StockMovement
from inventory.selectors import stock_drift
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sites(channel, warehouse):
    product = factories.ProductFactory(sku="MUG")
    east = factories.LocationFactory(code="EAST", priority=5)
    channel.locations.add(east)
    main = factories.stock(product, warehouse, 10)
    return product, main, east


def test_transfer_moves_units_with_a_pair_of_movements(two_sites):
    product, main, east = two_sites
    out, into = services.stock_transfer(
        sku="MUG", from_location="MAIN", to_location="EAST", quantity=4, reason="rebalance", actor="test"
    )
    main.refresh_from_db()
    east_item = StockItem.objects.get(product=product, location=east)
    assert (main.on_hand, east_item.on_hand) == (6, 4)
    assert (out.kind, out.quantity, into.kind, into.quantity) == ("transfer", -4, "transfer", 4)
    assert out.reference == into.reference
    assert out.reference.startswith("transfer:MAIN>EAST:")
    assert stock_drift() == []


def test_transfer_below_reserved_is_refused_and_changes_nothing(channel, two_sites):
    product, main, east = two_sites
    factories.place(channel, "A", lines=(("MUG", 7),))
    with pytest.raises(InsufficientStock) as exc:
        services.stock_transfer(sku="MUG", from_location="MAIN", to_location="EAST", quantity=4, reason="", actor="t")
    assert exc.value.code == "below_reserved"
    main.refresh_from_db()
    assert (main.on_hand, main.reserved) == (10, 7)
    assert not StockMovement.objects.filter(kind="transfer").exists()


def test_transfer_in_allocates_waiting_backorders(channel, warehouse, django_capture_on_commit_callbacks):
    product = factories.ProductFactory(sku="LAMP")
    far = factories.LocationFactory(code="FAR")  # not a location of the channel
    factories.stock(product, far, 3)
    order = factories.place(channel, "B", lines=(("LAMP", 2),))
    assert order.status == "backordered"
    with django_capture_on_commit_callbacks(execute=True):
        services.stock_transfer(sku="LAMP", from_location="FAR", to_location="MAIN", quantity=3, reason="", actor="t")
    order.refresh_from_db()
    assert order.status == "received"
    assert order.lines.get().quantity_reserved == 2


def test_transfer_validates_input(two_sites):
    with pytest.raises(InvalidInput) as exc:
        services.stock_transfer(sku="NOPE", from_location="MAIN", to_location="MAIN", quantity=1, reason="", actor="t")
    assert {e.code for e in exc.value.errors} == {"unknown_sku"}
    with pytest.raises(InvalidInput) as exc:
        services.stock_transfer(sku="MUG", from_location="MAIN", to_location="MAIN", quantity=1, reason="", actor="t")
    assert exc.value.code == "same_location"


def test_count_records_the_difference_as_a_count_movement(two_sites):
    _, main, _ = two_sites
    movement = services.stock_count(sku="MUG", location_code="MAIN", counted=7, reason="aisle 3", actor="t")
    main.refresh_from_db()
    assert (movement.kind, movement.quantity, main.on_hand) == ("count", -3, 7)
    movement = services.stock_count(sku="MUG", location_code="MAIN", counted=9, reason="found", actor="t")
    main.refresh_from_db()
    assert (movement.quantity, main.on_hand) == (2, 9)
    assert stock_drift() == []


def test_matching_count_writes_a_zero_movement(two_sites):
    movement = services.stock_count(sku="MUG", location_code="MAIN", counted=10, reason="", actor="t")
    assert (movement.kind, movement.quantity) == ("count", 0)


def test_count_below_reserved_is_refused(channel, two_sites):
    _, main, _ = two_sites
    factories.place(channel, "A", lines=(("MUG", 6),))
    with pytest.raises(InsufficientStock):
        services.stock_count(sku="MUG", location_code="MAIN", counted=5, reason="", actor="t")
    main.refresh_from_db()
    assert main.on_hand == 10


def test_transfer_endpoint(staff_api, two_sites):
    r = staff_api.post(
        "/api/v1/stock/transfers/",
        {"sku": "MUG", "from_location": "MAIN", "to_location": "EAST", "quantity": 3, "reason": "x"},
        format="json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["out"]["location"] == "MAIN"
    assert body["out"]["quantity"] == -3
    assert body["out"]["on_hand"] == 7
    assert body["into"]["location"] == "EAST"
    assert body["into"]["on_hand"] == 3


def test_transfer_endpoint_refuses_below_reserved_with_409(staff_api, channel, two_sites):
    factories.place(channel, "A", lines=(("MUG", 9),))
    r = staff_api.post(
        "/api/v1/stock/transfers/",
        {"sku": "MUG", "from_location": "MAIN", "to_location": "EAST", "quantity": 2},
        format="json",
    )
    assert r.status_code == 409
    assert r.json()["errors"][0]["code"] == "below_reserved"


def test_count_endpoint(staff_api, two_sites):
    r = staff_api.post("/api/v1/stock/counts/", {"sku": "MUG", "location": "MAIN", "counted": 8}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["kind"] == "count"
    assert r.json()["quantity"] == -2
    assert r.json()["on_hand"] == 8
    r = staff_api.post("/api/v1/stock/counts/", {"sku": "MUG", "location": "NOWHERE", "counted": 8}, format="json")
    assert r.status_code == 400
    assert r.json()["errors"][0]["attr"] == "location"


def test_channel_key_cannot_transfer(channel_api, two_sites):
    r = channel_api.post(
        "/api/v1/stock/transfers/",
        {"sku": "MUG", "from_location": "MAIN", "to_location": "EAST", "quantity": 1},
        format="json",
    )
    assert r.status_code == 403
    assert Order.objects.count() == 0
