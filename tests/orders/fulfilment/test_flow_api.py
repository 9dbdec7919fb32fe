"""The whole floor flow of API.md through the API: wave, a refused short pick, pick, pack, ship, label, deliver."""

from __future__ import annotations

from inventory.models import StockItem, StockMovement
from orders.models import Order, OrderEvent, Shipment
from tests import factories

from .conftest import decode_pdf


def _events(order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order).order_by("id").values_list("type", flat=True))


def test_the_whole_flow_pick_pack_ship_label_deliver(staff_api, channel, floor, warehouse):
    order = factories.place(channel, "F-1", lines=[("TEE", 2), ("MUG", 1)])
    shipment = order.shipments.get()

    wave = staff_api.post("/api/v1/pick-lists/", {"location": "MAIN", "max_shipments": 10}, format="json")
    assert wave.status_code == 201, wave.json()
    assert wave.json()["shipments"] == [shipment.pk]
    assert wave.json()["lines"] == [
        {"sku": "MUG", "name": "Mug", "bin": "A-01", "quantity": 1},
        {"sku": "TEE", "name": "Tee", "bin": "C-03", "quantity": 2},
    ]

    url = f"/api/v1/shipments/{shipment.pk}"
    before = _events(order)
    short = staff_api.post(f"{url}/pick/", {"lines": [{"sku": "TEE", "quantity": 1}]}, format="json")
    assert short.status_code == 409
    error = short.json()["errors"][0]
    assert error["code"] == "pick_mismatch"
    assert error["extra"]["short"] == [
        {"sku": "MUG", "expected": 1, "scanned": 0},
        {"sku": "TEE", "expected": 2, "scanned": 1},
    ]
    assert error["extra"]["extra"] == []
    shipment.refresh_from_db()
    assert shipment.status == "picking"
    assert _events(order) == before  # nothing changed

    extra = staff_api.post(
        f"{url}/pick/",
        {"lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}, {"sku": "CAP", "quantity": 1}]},
        format="json",
    )
    assert extra.status_code == 409
    assert extra.json()["errors"][0]["extra"]["extra"] == [{"sku": "CAP", "expected": 0, "scanned": 1}]

    picked = staff_api.post(
        f"{url}/pick/", {"lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 1}]}, format="json"
    )
    assert picked.status_code == 200, picked.json()
    assert picked.json()["status"] == "picked"
    assert Order.objects.get(pk=order.pk).status == "picked"

    packed = staff_api.post(
        f"{url}/pack/", {"weight_grams": 900, "length_mm": 300, "width_mm": 200, "height_mm": 100}, format="json"
    )
    assert packed.status_code == 200, packed.json()
    body = packed.json()
    assert (body["status"], body["weight_grams"], body["length_mm"], body["height_mm"]) == ("packed", 900, 300, 100)
    assert Order.objects.get(pk=order.pk).status == "packed"

    shipped = staff_api.post(f"{url}/ship/", {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}, format="json")
    assert shipped.status_code == 200, shipped.json()
    body = shipped.json()
    assert (body["status"], body["carrier"], body["tracking_number"]) == ("shipped", "ups", "1Z999AA10123456784")
    assert body["tracking_url"] == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    tee = StockItem.objects.get(product=floor["TEE"], location=warehouse)
    assert (tee.on_hand, tee.reserved) == (98, 0)
    movement = StockMovement.objects.get(stock_item=tee, kind="shipment")
    assert (movement.quantity, movement.reference) == (-2, f"shipment:{shipment.number}")
    assert Order.objects.get(pk=order.pk).status == "shipped"

    label = staff_api.get(f"{url}/label.pdf")
    assert label.status_code == 200
    assert label["Content-Type"] == "application/pdf"
    assert "1Z999AA10123456784" in decode_pdf(label.content)

    delivered = staff_api.post(f"{url}/deliver/", {"delivered_at": "2026-11-24T10:00:00Z"}, format="json")
    assert delivered.status_code == 200, delivered.json()
    order.refresh_from_db()
    assert order.status == "delivered"
    assert order.delivered_at.isoformat() == "2026-11-24T10:00:00+00:00"

    assert [e for e in _events(order) if e.startswith("shipment.")] == [
        "shipment.picking",
        "shipment.picked",
        "shipment.packed",
        "shipment.shipped",
        "shipment.delivered",
    ]
    statuses = {"received", "picked", "packed", "shipped", "delivered"}
    assert [e for e in _events(order) if e in statuses] == ["received", "picked", "packed", "shipped", "delivered"]
    events = staff_api.get(f"/api/v1/orders/{order.pk}/events/").json()
    shipped_event = next(e for e in events if e["type"] == "shipment.shipped")
    assert shipped_event["actor"] == "user:manager"
    assert shipped_event["data"]["tracking_number"] == "1Z999AA10123456784"


def test_illegal_moves_are_409_invalid_transition(staff_api, channel, floor):
    order = factories.place(channel, "F-2", lines=[("TEE", 1)])
    url = f"/api/v1/shipments/{order.shipments.get().pk}"
    dims = {"weight_grams": 1, "length_mm": 1, "width_mm": 1, "height_mm": 1}
    for path, body in [("pack/", dims), ("deliver/", {})]:
        response = staff_api.post(url + "/" + path, body, format="json")
        assert response.status_code == 409, path
        assert response.json()["errors"][0]["code"] == "invalid_transition"
    assert Shipment.objects.get(order=order).status == "pending"
    staff_api.post(url + "/pick/", {"lines": [{"sku": "TEE", "quantity": 1}]}, format="json")
    response = staff_api.post(url + "/deliver/", {}, format="json")
    assert response.json()["errors"][0]["code"] == "invalid_transition"
    response = staff_api.post(url + "/pick/", {"lines": [{"sku": "TEE", "quantity": 1}]}, format="json")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (409, "invalid_transition")


def test_ship_without_tracking_number_for_a_manual_carrier_is_400(staff_api, channel, floor):
    order = factories.place(channel, "F-3", lines=[("TEE", 1)])
    url = f"/api/v1/shipments/{order.shipments.get().pk}"
    staff_api.post(url + "/pick/", {"lines": [{"sku": "TEE", "quantity": 1}]}, format="json")
    staff_api.post(url + "/pack/", {"weight_grams": 5, "length_mm": 5, "width_mm": 5, "height_mm": 5}, format="json")
    response = staff_api.post(url + "/ship/", {"carrier": "ups"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "tracking_number"
    assert Shipment.objects.get(order=order).status == "packed"


def test_pack_refuses_non_positive_sizes(staff_api, channel, floor):
    order = factories.place(channel, "F-4", lines=[("TEE", 1)])
    url = f"/api/v1/shipments/{order.shipments.get().pk}"
    staff_api.post(url + "/pick/", {"lines": [{"sku": "TEE", "quantity": 1}]}, format="json")
    response = staff_api.post(
        url + "/pack/", {"weight_grams": 0, "length_mm": 5, "width_mm": 5, "height_mm": 5}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "weight_grams"


def test_order_is_partially_shipped_while_one_of_two_shipments_waits(staff_api, channel, floor, warehouse):
    other = factories.LocationFactory(code="EAST", priority=2)
    channel.locations.add(other)
    factories.stock(factories.ProductFactory(sku="LAMP", name="Lamp"), other, 5, bin="Z-9")
    order = factories.place(channel, "F-5", lines=[("TEE", 1), ("LAMP", 1)])
    main, east = order.shipments.order_by("location__priority")
    staff_api.post(f"/api/v1/shipments/{main.pk}/pick/", {"lines": [{"sku": "TEE", "quantity": 1}]}, format="json")
    dims = {"weight_grams": 5, "length_mm": 5, "width_mm": 5, "height_mm": 5}
    staff_api.post(f"/api/v1/shipments/{main.pk}/pack/", dims, format="json")
    staff_api.post(f"/api/v1/shipments/{main.pk}/ship/", {"carrier": "usps", "tracking_number": "9400"}, format="json")
    body = staff_api.get(f"/api/v1/orders/{order.pk}/").json()
    assert body["partially_shipped"] is True
    assert body["status"] == "received"  # the least advanced live shipment (EAST, pending)
    assert {s["location"]: s["status"] for s in body["shipments"]} == {"MAIN": "shipped", "EAST": "pending"}


def test_a_shipment_of_an_order_on_hold_stays_off_the_floor(staff_api, channel, floor):
    order = factories.place(channel, "F-6", lines=[("TEE", 1)], payment_status="pending")
    assert order.status == "on_hold"
    url = f"/api/v1/shipments/{order.shipments.get().pk}"
    picked = staff_api.post(url + "/pick/", {"lines": [{"sku": "TEE", "quantity": 1}]}, format="json")
    assert (picked.status_code, picked.json()["errors"][0]["code"]) == (409, "order_not_released")
    shipped = staff_api.post(url + "/ship/", {"carrier": "ups", "tracking_number": "1Z"}, format="json")
    assert (shipped.status_code, shipped.json()["errors"][0]["code"]) == (409, "order_not_released")
    assert Shipment.objects.get(order=order).status == "pending"
