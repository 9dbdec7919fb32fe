"""3PL and dropship handoff, and the partner API with a key that sees only its own shipments."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command
from rest_framework.test import APIClient

from inventory.models import Location
from orders.handoff import shipment_handoff
from orders.models import OrderEvent, Shipment
from orders.partners import partner_key_create, partner_key_revoke, partner_save
from tests import factories

from .conftest import decode_pdf
from .fake_servers import FakeThreePL


def _partner_location(channel, code, kind, **partner):
    location = factories.LocationFactory(code=code, kind=kind, priority=0)
    channel.locations.add(location)
    p = partner_save(location=location, name=f"{code} Ltd", **partner)
    return location, p


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


@pytest.fixture
def dropship(channel, floor):
    location, partner = _partner_location(channel, "SOFAS", Location.Kind.DROPSHIP, email="orders@sofas.example")
    factories.stock(factories.ProductFactory(sku="SOFA", name="Sofa"), location, 5)
    return partner


def test_a_dropship_shipment_is_sent_as_a_purchase_order_email_with_a_pdf(channel, dropship, commit):
    mail.outbox.clear()
    with commit(execute=True):
        order = factories.place(channel, "DS-1", lines=[("SOFA", 1)])
    shipment = order.shipments.get()
    assert shipment.fulfillment == "dropship"
    [message] = [m for m in mail.outbox if m.to == ["orders@sofas.example"]]
    assert shipment.number in message.subject
    assert "SOFA" in message.body
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"PO-{shipment.number}.pdf", "application/pdf")
    assert shipment.number in decode_pdf(content)
    shipment.refresh_from_db()
    assert shipment.handed_off_at is not None
    assert OrderEvent.objects.filter(order=order, type="shipment.handed_off").count() == 1
    assert shipment_handoff(shipment_id=shipment.pk) is False  # once only
    assert len([m for m in mail.outbox if m.to == ["orders@sofas.example"]]) == 1


def test_a_3pl_shipment_is_sent_as_json_to_the_partners_endpoint(channel, floor, commit):
    with FakeThreePL() as threepl:
        location, _ = _partner_location(
            channel, "3PL", Location.Kind.THIRD_PARTY, endpoint_url=threepl.url + "/shipments", endpoint_token="s3"
        )
        factories.stock(factories.ProductFactory(sku="BOOK", name="Book"), location, 5)
        with commit(execute=True):
            order = factories.place(channel, "TP-1", lines=[("BOOK", 2)])
        [request] = threepl.requests
    shipment = order.shipments.get()
    assert request["path"] == "/shipments"
    assert request["headers"]["Authorization"] == "Bearer s3"
    assert request["headers"]["Idempotency-Key"] == shipment.number
    body = request["body"]
    assert body["shipment"]["number"] == shipment.number
    assert body["shipment"]["lines"] == [{"sku": "BOOK", "name": "Book", "quantity": 2}]
    assert body["shipment"]["ship_to"]["postal_code"] == "62701"
    assert body["report_to"]["ship"] == f"/api/v1/partner/shipments/{shipment.pk}/ship/"
    assert Shipment.objects.get(pk=shipment.pk).handed_off_at is not None


def test_a_failing_3pl_endpoint_leaves_the_shipment_to_be_sent_again(channel, floor, commit):
    with FakeThreePL(status=500) as threepl:
        location, _ = _partner_location(
            channel, "3PL", Location.Kind.THIRD_PARTY, endpoint_url=threepl.url + "/shipments"
        )
        factories.stock(factories.ProductFactory(sku="BOOK"), location, 5)
        with commit(execute=True):
            order = factories.place(channel, "TP-2", lines=[("BOOK", 1)])  # placing never fails for the partner
        assert len(threepl.requests) == 1  # tried once now; the outbox sweep tries again later
        shipment = order.shipments.get()
        assert shipment.handed_off_at is None
        threepl.status = 202
        assert shipment_handoff(shipment_id=shipment.pk) is True
    assert Shipment.objects.get(pk=shipment.pk).handed_off_at is not None


def test_a_partner_key_marks_its_shipment_shipped_and_delivered_and_sees_nothing_else(channel, dropship, staff_api):
    _, raw = partner_key_create(partner=dropship)
    partner = _client(raw)
    mine = factories.place(channel, "DS-2", lines=[("SOFA", 1)]).shipments.get()
    other = factories.place(channel, "OWN-1", lines=[("TEE", 1)]).shipments.get()

    listed = partner.get("/api/v1/partner/shipments/")
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["results"]] == [mine.pk]
    assert partner.get(f"/api/v1/partner/shipments/{other.pk}/").status_code == 404
    ship = {"carrier": "fedex", "tracking_number": "794698524930"}
    assert partner.post(f"/api/v1/partner/shipments/{other.pk}/ship/", ship, format="json").status_code == 404

    shipped = partner.post(f"/api/v1/partner/shipments/{mine.pk}/ship/", ship, format="json")
    assert shipped.status_code == 200, shipped.json()
    assert (shipped.json()["status"], shipped.json()["tracking_url"]) == (
        "shipped",
        "https://www.fedex.com/fedextrack/?trknbr=794698524930",
    )
    delivered = partner.post(
        f"/api/v1/partner/shipments/{mine.pk}/deliver/", {"delivered_at": "2026-11-27T12:00:00Z"}, format="json"
    )
    assert delivered.status_code == 200
    assert delivered.json()["delivered_at"] == "2026-11-27T12:00:00Z"
    order_events = staff_api.get(f"/api/v1/orders/{mine.order_id}/events/").json()
    assert {e["actor"] for e in order_events if e["type"].startswith("shipment.")} >= {"partner:SOFAS"}
    assert staff_api.get(f"/api/v1/orders/{mine.order_id}/").json()["status"] == "delivered"
    assert Shipment.objects.get(pk=other.pk).status == "pending"


def test_a_partner_key_is_403_on_staff_and_channel_endpoints(channel, dropship):
    _, raw = partner_key_create(partner=dropship)
    partner = _client(raw)
    assert partner.get("/api/v1/shipments/").status_code == 403
    assert partner.get("/api/v1/orders/").status_code == 403
    assert partner.post("/api/v1/pick-lists/", {"location": "MAIN"}, format="json").status_code == 403


def test_staff_and_channel_keys_are_403_on_partner_endpoints(channel_api, staff_api, dropship):
    assert staff_api.get("/api/v1/partner/shipments/").status_code == 403
    assert channel_api.get("/api/v1/partner/shipments/").status_code == 403


def test_bad_or_revoked_partner_keys_are_401(channel, dropship):
    key, raw = partner_key_create(partner=dropship)
    assert _client(raw + "x").get("/api/v1/partner/shipments/").status_code == 401
    partner_key_revoke(key=key)
    assert _client(raw).get("/api/v1/partner/shipments/").status_code == 401


def test_create_partner_command_prints_a_working_key(channel, floor, capsys):
    factories.LocationFactory(code="DROP", kind=Location.Kind.DROPSHIP)
    call_command("create_partner", "DROP", "--name", "Drop Co", "--email", "po@drop.example")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert raw.startswith("pk_")
    assert _client(raw).get("/api/v1/partner/shipments/").status_code == 200


def test_cancelling_tells_the_dropship_partner_not_to_ship(channel, dropship, commit):
    from orders import services

    with commit(execute=True):
        order = factories.place(channel, "DS-9", lines=[("SOFA", 1)])
    mail.outbox.clear()
    with commit(execute=True):
        services.cancel_order(order=order, reason="customer changed mind", actor="t")
    [message] = [m for m in mail.outbox if m.to == ["orders@sofas.example"]]
    assert message.subject.startswith("CANCELLED")
    assert order.shipments.get().number in message.subject
    assert "customer changed mind" in message.body
