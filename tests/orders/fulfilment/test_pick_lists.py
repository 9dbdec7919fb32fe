from __future__ import annotations

import datetime as dt

from inventory.models import Location
from orders.models import PickList, Shipment
from tests import factories

from .conftest import decode_pdf


def _place(channel, ext, lines, promised):
    return factories.place(channel, ext, lines=lines, promised_delivery_date=promised)


def test_wave_takes_oldest_promise_first_sums_per_sku_in_bin_order(staff_api, channel, floor):
    late = _place(channel, "W-late", [("TEE", 1)], dt.date(2026, 12, 20))
    soon = _place(channel, "W-soon", [("TEE", 2), ("CAP", 1)], dt.date(2026, 12, 1))
    none = _place(channel, "W-none", [("MUG", 5)], None)
    middle = _place(channel, "W-mid", [("MUG", 1), ("TEE", 1)], dt.date(2026, 12, 5))

    response = staff_api.post("/api/v1/pick-lists/", {"location": "MAIN", "max_shipments": 3}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    ids = [o.shipments.get().pk for o in (soon, middle, late)]
    assert body["shipments"] == ids  # oldest promise first; the order without a promise waits
    assert body["location"] == "MAIN"
    assert [(ln["sku"], ln["bin"], ln["quantity"]) for ln in body["lines"]] == [
        ("MUG", "A-01", 1),
        ("TEE", "C-03", 4),
        ("CAP", "", 1),
    ]
    assert [t["tote"] for t in body["totes"]] == ["T01", "T02", "T03"]
    assert set(Shipment.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"picking"}
    assert none.shipments.get().status == "pending"
    stored = PickList.objects.get(pk=body["id"])
    assert stored.lines == body["lines"]
    assert set(stored.shipments.values_list("pk", flat=True)) == set(ids)
    assert staff_api.get(f"/api/v1/pick-lists/{body['id']}/").json()["shipments"] == ids

    second = staff_api.post("/api/v1/pick-lists/", {"location": "MAIN"}, format="json").json()
    assert second["shipments"] == [none.shipments.get().pk]
    empty = staff_api.post("/api/v1/pick-lists/", {"location": "MAIN"}, format="json")
    assert (empty.status_code, empty.json()["errors"][0]["code"]) == (409, "nothing_to_pick")


def test_wave_skips_orders_on_hold_and_partner_locations(staff_api, channel, floor):
    held = factories.place(channel, "H-1", lines=[("TEE", 1)], payment_status="pending")
    assert held.status == "on_hold"
    dropship = factories.LocationFactory(code="DS", kind=Location.Kind.DROPSHIP, priority=0)
    channel.locations.add(dropship)
    factories.stock(factories.ProductFactory(sku="SOFA"), dropship, 3)
    factories.place(channel, "D-1", lines=[("SOFA", 1)])
    response = staff_api.post("/api/v1/pick-lists/", {"location": "MAIN"}, format="json")
    assert response.status_code == 409
    partner = staff_api.post("/api/v1/pick-lists/", {"location": "DS"}, format="json")
    assert (partner.status_code, partner.json()["errors"][0]["attr"]) == (400, "location")
    unknown = staff_api.post("/api/v1/pick-lists/", {"location": "NOPE"}, format="json")
    assert unknown.status_code == 400


def test_pick_list_prints_as_pdf_with_its_number_as_barcode(staff_api, channel, floor):
    factories.place(channel, "P-1", lines=[("TEE", 1)])
    body = staff_api.post("/api/v1/pick-lists/", {"location": "MAIN"}, format="json").json()
    response = staff_api.get(f"/api/v1/pick-lists/{body['id']}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert body["number"] in decode_pdf(response.content)


def test_pick_list_prints_as_html_in_bin_order(staff_api, channel, floor):
    from django.test import Client

    from tests.orders.fulfilment.conftest import role_api

    factories.place(channel, "P-2", lines=[("TEE", 1), ("MUG", 2)])
    body = staff_api.post("/api/v1/pick-lists/", {"location": "MAIN"}, format="json").json()
    _, picker = role_api("picker")
    client = Client()
    client.force_login(picker)
    page = client.get(f"/floor/pick-lists/{body['id']}/").content.decode()
    assert page.index("A-01") < page.index("C-03")
    assert body["number"] in page
    assert "T01" in page
