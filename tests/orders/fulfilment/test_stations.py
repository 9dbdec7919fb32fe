"""Pick and pack stations through Django's client: each scan answered, mis-picks refused and recorded."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from orders.floor_selectors import caught_mis_picks
from orders.models import Shipment, StationScan
from orders.roles import ensure_roles
from tests import factories

from .conftest import decode_pdf

JSON = {"HTTP_ACCEPT": "application/json"}


def _staff(role: str) -> Client:
    ensure_roles()
    user = factories.UserFactory(username=f"{role}-user", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def _scan(client, station, shipment, code):
    response = client.post(f"/floor/{station}/{shipment.pk}/scan/", {"code": code}, **JSON)
    return response.json()


@pytest.fixture
def order(channel, floor):
    return factories.place(channel, "ST-1", lines=[("TEE", 2), ("MUG", 1)])


def test_pick_station_counts_each_scan_refuses_mis_picks_and_finishes_the_pick(order, floor):
    picker = _staff("picker")
    shipment = order.shipments.get()
    opened = picker.post("/floor/pick/", {"code": shipment.number})
    assert opened.status_code == 302
    assert opened["Location"] == f"/floor/pick/{shipment.pk}/"
    assert Shipment.objects.get(pk=shipment.pk).status == "picking"

    first = _scan(picker, "pick", shipment, "0001112223334")  # TEE's barcode
    assert (first["ok"], first["sku"], first["counts"], first["complete"]) == (True, "TEE", {"TEE": 1}, False)
    wrong = _scan(picker, "pick", shipment, "CAP")
    assert (wrong["ok"], wrong["outcome"]) == (False, "wrong_item")
    assert "CAP" in wrong["message"]
    assert _scan(picker, "pick", shipment, "tee")["counts"] == {"TEE": 2}
    too_many = _scan(picker, "pick", shipment, "TEE")
    assert (too_many["ok"], too_many["outcome"], too_many["counts"]) == (False, "too_many", {"TEE": 2})
    unknown = _scan(picker, "pick", shipment, "NOT-A-THING")
    assert unknown["outcome"] == "unknown_code"
    assert Shipment.objects.get(pk=shipment.pk).status == "picking"
    last = _scan(picker, "pick", shipment, "0004445556667")
    assert (last["ok"], last["complete"], last["status"]) == (True, True, "picked")
    assert Shipment.objects.get(pk=shipment.pk).status == "picked"

    caught = caught_mis_picks().filter(shipment=shipment)
    assert sorted(caught.values_list("outcome", flat=True)) == ["too_many", "wrong_item"]
    assert StationScan.objects.filter(shipment=shipment, outcome="ok").count() == 3
    page = picker.get(f"/floor/pick/{shipment.pk}/")
    assert b"is picked" in page.content


def test_pack_station_needs_every_item_then_sizes_then_gives_the_label(order, floor):
    picker, packer = _staff("picker"), _staff("packer")
    shipment = order.shipments.get()
    picker.post("/floor/pick/", {"code": shipment.number})
    for code in ("TEE", "TEE", "MUG"):
        _scan(picker, "pick", shipment, code)

    assert packer.post("/floor/pack/", {"code": shipment.number}).status_code == 302
    _scan(packer, "pack", shipment, "TEE")
    early = packer.post(
        f"/floor/pack/{shipment.pk}/pack/", {"weight_grams": 900, "length_mm": 300, "width_mm": 200, "height_mm": 100}
    )
    assert early.status_code == 302
    assert Shipment.objects.get(pk=shipment.pk).status == "picked"  # refused: not everything scanned
    assert _scan(packer, "pack", shipment, "CAP")["outcome"] == "wrong_item"
    _scan(packer, "pack", shipment, "TEE")
    done = _scan(packer, "pack", shipment, "MUG")
    assert done["complete"] is True
    assert done["status"] == "picked"
    page = packer.get(f"/floor/pack/{shipment.pk}/")
    assert b'id="dims"' in page.content

    packer.post(
        f"/floor/pack/{shipment.pk}/pack/", {"weight_grams": 900, "length_mm": 300, "width_mm": 200, "height_mm": 100}
    )
    shipment.refresh_from_db()
    assert (shipment.status, shipment.weight_grams, shipment.height_mm) == ("packed", 900, 100)
    label = packer.get(f"/floor/pack/{shipment.pk}/label.pdf")
    assert label["Content-Type"] == "application/pdf"
    assert decode_pdf(label.content) == [shipment.number]


def test_a_shipment_in_the_wrong_state_is_refused_at_the_station(order, floor):
    packer = _staff("packer")
    shipment = order.shipments.get()
    response = packer.post("/floor/pack/", {"code": shipment.number})
    assert response.status_code == 400
    assert b"pending" in response.content
    scan = packer.post(f"/floor/pack/{shipment.pk}/scan/", {"code": "TEE"}, **JSON)
    assert scan.status_code == 409
    assert not StationScan.objects.exists()


def test_stations_need_login_and_the_stations_permission(order, floor):
    anonymous = Client()
    response = anonymous.get("/floor/pick/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    packer = _staff("packer")
    assert packer.get("/floor/pick/").status_code == 403
    assert packer.get("/floor/pack/").status_code == 200
    assert _staff("picker").get("/floor/pack/").status_code == 403


def test_reset_voids_counts_but_keeps_the_caught_mis_picks(order, floor):
    picker = _staff("picker")
    shipment = order.shipments.get()
    picker.post("/floor/pick/", {"code": shipment.number})
    _scan(picker, "pick", shipment, "TEE")
    _scan(picker, "pick", shipment, "CAP")
    picker.post(f"/floor/pick/{shipment.pk}/reset/")
    assert _scan(picker, "pick", shipment, "TEE")["counts"] == {"TEE": 1}
    assert caught_mis_picks().filter(shipment=shipment).count() == 1


def test_scanning_a_pick_list_shows_its_totes(staff_api, order, floor):
    wave = staff_api.post("/api/v1/pick-lists/", {"location": "MAIN"}, format="json").json()
    picker = _staff("picker")
    page = picker.post("/floor/pick/", {"code": wave["number"]})
    assert page.status_code == 200
    assert order.shipments.get().number.encode() in page.content
    assert b"T01" in page.content
