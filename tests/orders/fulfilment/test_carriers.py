"""Carriers behind one adapter: tracking URLs, and EasyPost (label purchase, trackers) against a fake server."""

from __future__ import annotations

import pytest

from orders import carriers, fulfilment, picking
from orders.carriers.easypost import EasyPostCarrier
from orders.carriers.urls import tracking_url
from orders.fulfilment_errors import CarrierError
from orders.models import Shipment
from tests import factories

from .fake_servers import FakeEasyPost


@pytest.fixture
def easypost(settings):
    with FakeEasyPost() as fake:
        settings.EASYPOST_API_KEY = FakeEasyPost.API_KEY
        settings.EASYPOST_API_BASE = fake.url + "/v2"
        yield fake


def _packed(channel, ext="C-1") -> Shipment:
    shipment = factories.place(channel, ext, lines=[("TEE", 1)]).shipments.get()
    picking.shipment_pick(shipment=shipment, lines={"TEE": 1}, actor="test")
    return fulfilment.shipment_pack(
        shipment=shipment, weight_grams=454, length_mm=254, width_mm=127, height_mm=76, actor="test"
    )


@pytest.mark.parametrize(
    ("carrier", "number", "url"),
    [
        ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        (
            "usps",
            "9400110898825022579493",
            "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400110898825022579493",
        ),
        ("FedEx", "794698524930", "https://www.fedex.com/fedextrack/?trknbr=794698524930"),
        (
            "DHL",
            "1234567890",
            "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id=1234567890",
        ),
        ("Acme Freight", "X1", None),
    ],
)
def test_tracking_urls_of_the_big_carriers(carrier, number, url):
    assert tracking_url(carrier, number) == url


def test_tracking_numbers_are_escaped_in_urls():
    assert tracking_url("ups", "1Z 9&x") == "https://www.ups.com/track?tracknum=1Z%209%26x"


def test_ship_with_easypost_buys_the_cheapest_label(staff_api, channel, floor, easypost):
    shipment = _packed(channel)
    response = staff_api.post(f"/api/v1/shipments/{shipment.pk}/ship/", {"carrier": "easypost"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["carrier"], body["service"], body["tracking_number"]) == ("usps", "Priority", "9400110898825022579493")
    assert body["tracking_url"].startswith("https://tools.usps.com/")
    assert body["label_url"] == "https://easypost-files.example/label.png"
    create, buy = easypost.requests
    assert create["path"] == "/v2/shipments"
    parcel = create["body"]["shipment"]["parcel"]
    assert (parcel["weight"], parcel["length"], parcel["width"], parcel["height"]) == (16.0, 10.0, 5.0, 3.0)
    assert create["body"]["shipment"]["to_address"]["zip"] == "62701"
    assert buy["body"] == {"rate": {"id": "rate_usps"}}
    shipment.refresh_from_db()
    assert (shipment.tracking_provider, shipment.carrier_ref) == ("easypost", "trk_c8e0edb5bb284caa934a0d3db23a148z")
    assert shipment.next_poll_at is not None


def test_a_carrier_failure_buys_nothing_and_changes_nothing(staff_api, channel, floor, easypost):
    shipment = _packed(channel)
    easypost.fail_next = 1
    staff_api.raise_request_exception = False  # a 5xx is also reported as an error (logs): see the response
    response = staff_api.post(f"/api/v1/shipments/{shipment.pk}/ship/", {"carrier": "easypost"}, format="json")
    assert response.status_code == 502
    assert response.json()["type"] == "server_error"
    assert response.json()["errors"][0]["code"] == "carrier_error"
    assert Shipment.objects.get(pk=shipment.pk).status == "packed"


def test_state_is_checked_before_a_label_is_bought(staff_api, channel, floor, easypost):
    shipment = factories.place(channel, "C-2", lines=[("TEE", 1)]).shipments.get()
    picking.shipment_pick(shipment=shipment, lines={"TEE": 1}, actor="test")
    response = staff_api.post(f"/api/v1/shipments/{shipment.pk}/ship/", {"carrier": "easypost"}, format="json")
    assert response.status_code == 409
    assert easypost.requests == []


def test_easypost_tracker_maps_statuses(channel, floor, easypost):
    easypost.add_detail("pre_transit", "2026-11-20T10:00:00Z", "Shipping label created")
    easypost.add_detail("in_transit", "2026-11-21T08:30:00Z", "Arrived at facility")
    easypost.add_detail("out_for_delivery", "2026-11-22T07:00:00Z", "Out for delivery")
    easypost.add_detail("return_to_sender", "2026-11-23T07:00:00Z", "Returned")
    easypost.add_detail("delivered", "2026-11-24T15:00:00Z", "Delivered, front door")
    adapter = carriers.get("easypost")
    shipment = Shipment(carrier="usps", tracking_number="9400110898825022579493")
    result = adapter.track(shipment)
    assert [u.mapped for u in result.updates] == ["", "in_transit", "in_transit", "exception", "delivered"]
    assert result.carrier_ref == "trk_c8e0edb5bb284caa934a0d3db23a148z"
    assert result.updates[-1].location == "CHICAGO, IL, US"
    assert easypost.requests[0]["body"] == {"tracker": {"tracking_code": "9400110898825022579493", "carrier": "USPS"}}


def test_a_bad_api_key_is_a_carrier_error(easypost):
    adapter = EasyPostCarrier(api_key="wrong", base_url=easypost.url + "/v2")
    with pytest.raises(CarrierError, match="401"):
        adapter.track(Shipment(carrier="usps", tracking_number="1"))


def test_the_manual_carrier_buys_no_label():
    with pytest.raises(CarrierError):
        carriers.get("manual").buy_label(Shipment())
    assert carriers.get("manual").track(Shipment()).updates == []
