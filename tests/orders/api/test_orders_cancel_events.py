"""POST /orders/{id}/cancel/ and GET /orders/{id}/events/."""

from __future__ import annotations

import pytest

from inventory.models import StockItem
from orders import fulfilment, services
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def split_order(channel, warehouse):
    """An order reserved at two locations (two shipments) with one unit backordered."""
    backup = factories.LocationFactory(code="3PL", priority=5, kind="third_party")
    channel.locations.add(backup)
    tee = factories.ProductFactory(sku="TEE-RED-M")
    factories.stock(tee, warehouse, 3)
    factories.stock(tee, backup, 2)
    return factories.place(channel, "SPLIT", [("TEE-RED-M", 6)])


def reserved() -> list[int]:
    return list(StockItem.objects.order_by("pk").values_list("reserved", flat=True))


def test_cancel_is_200_with_the_order_cancelled_and_everything_released(channel_api, split_order):
    assert reserved() == [3, 2]

    response = channel_api.post(
        f"/api/v1/orders/{split_order.pk}/cancel/", {"reason": "customer request"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "cancelled"
    assert [s["status"] for s in body["shipments"]] == ["cancelled", "cancelled"]
    assert body["lines"][0]["quantity_reserved"] == body["lines"][0]["quantity_backordered"] == 0
    assert reserved() == [0, 0]
    events = channel_api.get(f"/api/v1/orders/{split_order.pk}/events/").json()
    assert events[-1] == {
        "type": "cancelled",
        "at": events[-1]["at"],
        "actor": "channel:webstore",
        "data": {"reason": "customer request"},
    }


def test_cancel_without_a_body_is_allowed(channel_api, split_order):
    response = channel_api.post(f"/api/v1/orders/{split_order.pk}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_cancel_after_a_shipment_shipped_is_409_already_shipped(channel_api, split_order):
    shipment = split_order.shipments.get(location__code="MAIN")
    fulfilment.shipment_ship(shipment=shipment, carrier="manual", tracking_number="1Z1", actor="test")
    before = reserved()

    response = channel_api.post(f"/api/v1/orders/{split_order.pk}/cancel/", {"reason": "late"}, format="json")

    assert response.status_code == 409
    assert response.json()["type"] == "client_error"
    assert [e["code"] for e in response.json()["errors"]] == ["already_shipped"]
    assert reserved() == before
    split_order.refresh_from_db()
    assert split_order.status != "cancelled"


def test_cancelling_twice_is_409_invalid_transition(channel_api, split_order):
    url = f"/api/v1/orders/{split_order.pk}/cancel/"
    assert channel_api.post(url, {}, format="json").status_code == 200

    response = channel_api.post(url, {}, format="json")

    assert response.status_code == 409
    assert [e["code"] for e in response.json()["errors"]] == ["invalid_transition"]


def test_a_cancel_reason_that_is_not_text_is_400(channel_api, split_order):
    response = channel_api.post(f"/api/v1/orders/{split_order.pk}/cancel/", {"reason": "x" * 501}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "reason"


def test_events_are_oldest_first_with_who_did_it(channel_api, channel, staff_api, split_order):
    shipment = split_order.shipments.get(location__code="MAIN")
    fulfilment.shipment_ship(shipment=shipment, carrier="manual", tracking_number="1Z1", actor="user:alice")

    response = channel_api.get(f"/api/v1/orders/{split_order.pk}/events/")

    assert response.status_code == 200
    events = response.json()
    assert isinstance(events, list)
    assert set(events[0]) == {"type", "at", "actor", "data"}
    types = [e["type"] for e in events]
    assert types[0] == "placed"
    assert types.index("backordered") < types.index("shipment.shipped")
    assert events[0]["data"] == {"external_id": "SPLIT"}
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert {e["actor"] for e in events} == {"test", "user:alice"}  # factories.place acts as "test"


def test_events_name_channel_user_and_system_actors(channel_api, staff_api, channel, warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M")
    placed = channel_api.post("/api/v1/orders/", factories.order_payload(), format="json").json()
    factories.stock(product, warehouse, 5)
    services.backorders_allocate(product_ids=[product.pk])  # the system, as after stock arrives
    staff_api.post(f"/api/v1/orders/{placed['id']}/cancel/", {"reason": "duplicate"}, format="json")

    events = staff_api.get(f"/api/v1/orders/{placed['id']}/events/").json()

    milestones = ["placed", "backordered", "backorder_allocated", "received", "shipment.cancelled", "cancelled"]
    assert [(e["type"], e["actor"]) for e in events if e["type"] in milestones] == [
        ("placed", "channel:webstore"),
        ("backordered", "channel:webstore"),
        ("backorder_allocated", "system"),
        ("received", "system"),
        ("shipment.cancelled", "user:manager"),
        ("cancelled", "user:manager"),
    ]
    assert {e["actor"] for e in events} == {"channel:webstore", "system", "user:manager"}
