"""API.md's returns flow, as a channel and the returns desk would drive it over HTTP."""

import pytest

from inventory.models import StockItem, StockMovement
from orders.models import Order
from tests import factories

from .conftest import ship_order

pytestmark = pytest.mark.django_db


def _ret(order_id, quantity, reason="wrong_item"):
    return {
        "order": order_id,
        "lines": [{"sku": "TEE-RED-M", "quantity": quantity, "reason": reason}],
        "resolution": "refund",
        "note": "",
    }


def test_returns_flow_as_written(channel_api, staff_api, warehouse, django_capture_on_commit_callbacks):
    product = factories.ProductFactory(sku="TEE-RED-M", name="Tee red M", price="19.90", cost="8.00")
    factories.stock(product, warehouse, 5)
    placed = channel_api.post("/api/v1/orders/", factories.order_payload(), format="json")
    assert placed.status_code == 201, placed.json()
    order_id = placed.json()["id"]

    # Nothing has shipped yet: refused.
    early = channel_api.post("/api/v1/returns/", _ret(order_id, 1), format="json")
    assert (early.status_code, early.json()["errors"][0]["code"]) == (400, "nothing_shipped")

    ship_order(Order.objects.get(pk=order_id), delivered_days_ago=3)

    # Limits: never more than shipped minus already returned.
    too_many = channel_api.post("/api/v1/returns/", _ret(order_id, 3), format="json")
    assert (too_many.status_code, too_many.json()["errors"][0]["code"]) == (400, "quantity_exceeds_returnable")

    created = channel_api.post("/api/v1/returns/", _ret(order_id, 2), format="json")
    assert created.status_code == 201, created.json()
    rma = created.json()
    assert rma["number"] == f"RMA-{rma['id']:06d}"
    assert (rma["order"], rma["status"], rma["resolution"], rma["refund_amount"]) == (
        order_id,
        "requested",
        "refund",
        "39.80",
    )
    assert channel_api.get(f"/api/v1/orders/{order_id}/").json()["lines"][0]["quantity_returned"] == 2

    # The same line again: nothing is left to return.
    again = channel_api.post("/api/v1/returns/", _ret(order_id, 1), format="json")
    assert (again.status_code, again.json()["errors"][0]["code"]) == (400, "quantity_exceeds_returnable")

    approved = staff_api.post(f"/api/v1/returns/{rma['id']}/approve/", format="json")
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")

    item = StockItem.objects.get(product=product, location=warehouse)
    on_hand_before = item.on_hand
    with django_capture_on_commit_callbacks(execute=True):
        received = staff_api.post(
            f"/api/v1/returns/{rma['id']}/receive/",
            {
                "lines": [
                    {"sku": "TEE-RED-M", "quantity": 1, "disposition": "restock"},
                    {"sku": "TEE-RED-M", "quantity": 1, "disposition": "scrap"},
                ]
            },
            format="json",
        )
    assert received.status_code == 200, received.json()
    line = received.json()["lines"][0]
    assert (line["quantity_received"], line["quantity_restocked"], line["quantity_scrapped"]) == (2, 1, 1)
    item.refresh_from_db()
    assert item.on_hand - on_hand_before == 1  # stock moves by exactly one
    assert list(
        StockMovement.objects.filter(stock_item=item, kind="return_restock").values_list("quantity", flat=True)
    ) == [1]
    stock_row = staff_api.get("/api/v1/stock/?sku=TEE-RED-M&location=MAIN").json()["results"][0]
    assert stock_row["on_hand"] == item.on_hand

    closed = staff_api.post(f"/api/v1/returns/{rma['id']}/close/", {}, format="json")
    assert closed.status_code == 200, closed.json()
    body = closed.json()
    assert (body["status"], body["refund_amount"]) == ("closed", "39.80")
    assert [(r["amount"], r["currency"]) for r in body["refunds"]] == [("39.80", "USD")]

    types = [e["type"] for e in channel_api.get(f"/api/v1/orders/{order_id}/events/").json()]
    assert types[-4:] == ["return.requested", "return.approved", "return.received", "return.closed"]


def test_a_rejected_return_frees_its_quantity_for_the_next(channel_api, staff_api, channel, warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M", price="19.90")
    factories.stock(product, warehouse, 5)
    order = ship_order(factories.place(channel, "WEB-77", lines=[("TEE-RED-M", 2)]), delivered_days_ago=1)
    first = channel_api.post("/api/v1/returns/", _ret(order.pk, 1), format="json").json()
    second = channel_api.post("/api/v1/returns/", _ret(order.pk, 1), format="json")
    assert second.status_code == 201
    assert channel_api.post("/api/v1/returns/", _ret(order.pk, 1), format="json").status_code == 400
    staff_api.post(f"/api/v1/returns/{first['id']}/reject/", {"reason": "duplicate"}, format="json")
    third = channel_api.post("/api/v1/returns/", _ret(order.pk, 1), format="json")
    assert third.status_code == 201, third.json()
    assert channel_api.post("/api/v1/returns/", _ret(order.pk, 1), format="json").status_code == 400
