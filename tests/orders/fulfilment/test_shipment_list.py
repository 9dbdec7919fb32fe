from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories


def _count(client, url) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(ctx.captured_queries), response.json()


@pytest.mark.django_db
def test_list_costs_the_same_queries_for_1_and_20_shipments(staff_api, channel, floor):
    factories.place(channel, "Q-0", lines=[("TEE", 1), ("MUG", 1)])
    one, body = _count(staff_api, "/api/v1/shipments/")
    assert len(body["results"]) == 1
    for i in range(1, 20):
        factories.place(channel, f"Q-{i}", lines=[("TEE", 1), ("MUG", 2), ("CAP", 1)])
    twenty, body = _count(staff_api, "/api/v1/shipments/")
    assert len(body["results"]) == 20
    assert one == twenty


def test_list_filters_by_status_location_and_order(staff_api, channel, floor):
    a = factories.place(channel, "L-1", lines=[("TEE", 1)])
    b = factories.place(channel, "L-2", lines=[("MUG", 1)])
    staff_api.post("/api/v1/pick-lists/", {"location": "MAIN", "max_shipments": 1}, format="json")
    picking = staff_api.get("/api/v1/shipments/?status=picking").json()["results"]
    assert [s["order"] for s in picking] == [a.pk]
    assert [s["order"] for s in staff_api.get("/api/v1/shipments/?status=pending").json()["results"]] == [b.pk]
    assert len(staff_api.get("/api/v1/shipments/?location=MAIN").json()["results"]) == 2
    assert staff_api.get("/api/v1/shipments/?location=ELSEWHERE").json()["results"] == []
    only_b = staff_api.get(f"/api/v1/shipments/?order={b.pk}").json()["results"]
    assert [(s["order_number"], s["lines"][0]["sku"], s["lines"][0]["bin"]) for s in only_b] == [
        (b.number, "MUG", "A-01")
    ]


def test_a_channel_key_cannot_call_staff_fulfilment_endpoints(channel_api, channel, floor):
    order = factories.place(channel, "C-1", lines=[("TEE", 1)])
    shipment = order.shipments.get()
    assert channel_api.get("/api/v1/shipments/").status_code == 403
    assert channel_api.post(f"/api/v1/shipments/{shipment.pk}/pick/", {"lines": []}, format="json").status_code == 403
    assert channel_api.post("/api/v1/pick-lists/", {"location": "MAIN"}, format="json").status_code == 403
    assert channel_api.get(f"/api/v1/shipments/{shipment.pk}/label.pdf").status_code == 403


def test_no_key_is_401(api, channel, floor):
    assert api.get("/api/v1/shipments/").status_code == 401
