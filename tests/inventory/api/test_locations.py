"""/api/v1/locations/: staff CRUD with an address object and the codes of the channels served."""

from __future__ import annotations

import pytest

from inventory.models import Location
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/locations/"
EAST = {
    "code": "EAST",
    "name": "East coast 3PL",
    "kind": "third_party",
    "priority": 5,
    "address": {
        "line1": "9 Dock Rd",
        "line2": "Unit 4",
        "city": "Newark",
        "region": "NJ",
        "postal_code": "07102",
        "country": "US",
    },
    "latitude": "40.735700",
    "longitude": "-74.172400",
    "channels": ["webstore"],
}


def test_create_read_update_delete(staff_api, channel):
    created = staff_api.post(URL, EAST, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {k: body[k] for k in EAST} == EAST
    assert body["active"] is True
    location = Location.objects.get(code="EAST")
    assert (location.address_line1, location.city, str(location.country)) == ("9 Dock Rd", "Newark", "US")
    assert list(channel.locations.all()) == [location]
    url = f"{URL}{body['id']}/"

    assert staff_api.get(url).json() == body
    marketplace = factories.ChannelFactory(code="marketplace")
    patched = staff_api.patch(
        url, {"priority": 1, "address": {"city": "Jersey City"}, "channels": ["marketplace"]}, format="json"
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["priority"] == 1
    assert patched.json()["address"]["city"] == "Jersey City"
    assert patched.json()["address"]["line1"] == "9 Dock Rd"  # a partial address keeps the rest
    assert patched.json()["channels"] == ["marketplace"]
    assert list(marketplace.locations.all()) == [location]
    assert not channel.locations.exists()

    assert staff_api.delete(url).status_code == 204
    assert not Location.objects.exists()


def test_a_patch_without_channels_keeps_them(staff_api, channel):
    location_id = staff_api.post(URL, EAST, format="json").json()["id"]

    response = staff_api.patch(f"{URL}{location_id}/", {"name": "Renamed"}, format="json")

    assert response.json()["channels"] == ["webstore"]


def test_the_smallest_location_is_code_name_and_kind(staff_api):
    response = staff_api.post(URL, {"code": "MIN", "name": "Minimal", "kind": "own"}, format="json")

    assert response.status_code == 201
    assert response.json()["address"] == {
        "line1": "",
        "line2": "",
        "city": "",
        "region": "",
        "postal_code": "",
        "country": "",
    }
    assert response.json()["channels"] == []


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"kind": "moon_base"}, "kind"),
        ({"code": ""}, "code"),
        ({"priority": -1}, "priority"),
        ({"latitude": "91"}, "latitude"),
        ({"longitude": "-181"}, "longitude"),
        ({"address": {"country": "XX"}}, "address.country"),
        ({"address": "9 Dock Rd"}, "address"),
        ({"channels": ["nope"]}, "channels"),
        ({"channels": "webstore"}, "channels"),
    ],
)
def test_bad_input_is_400_naming_the_field(staff_api, channel, change, attr):
    response = staff_api.post(URL, {**EAST, **change}, format="json")

    assert response.status_code == 400, response.json()
    assert [e["attr"] for e in response.json()["errors"]] == [attr]
    assert not Location.objects.exists()


def test_a_duplicate_code_is_400(staff_api, channel):
    factories.LocationFactory(code="EAST")

    response = staff_api.post(URL, EAST, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "code"


def test_a_location_holding_stock_cannot_be_deleted_409(staff_api, warehouse):
    factories.stock(factories.ProductFactory(sku="TEE"), warehouse, 1)

    response = staff_api.delete(f"{URL}{warehouse.pk}/")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "protected"


def test_filters(staff_api, channel):
    factories.LocationFactory(code="A", kind="own")
    factories.LocationFactory(code="B", kind="dropship", active=False)

    def codes(params):
        return sorted(loc["code"] for loc in staff_api.get(URL, params).json()["results"])

    assert codes({"kind": "dropship"}) == ["B"]
    assert codes({"active": "true"}) == ["A"]


@pytest.mark.parametrize("size", [1, 20])
def test_list_costs_the_same_queries_for_1_and_20_locations(staff_api, size, django_assert_num_queries):
    channels = [factories.ChannelFactory(code=f"c{i}") for i in range(3)]
    for i in range(size):
        location = factories.LocationFactory(code=f"L{i:02d}")
        location.channels.set(channels)

    with django_assert_num_queries(3):  # token, page, channels
        response = staff_api.get(URL)

    assert len(response.json()["results"]) == size
    assert response.json()["results"][0]["channels"] == ["c0", "c1", "c2"]
