"""The floor in the back office: waves from the shipment list, orders at risk, scans, partners."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import Location
from orders.models import PartnerKey, PickList, Shipment
from orders.partners import partner_save
from tests import factories


@pytest.fixture
def boss(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def test_admin_action_makes_a_pick_list_of_the_chosen_shipments(boss, channel, floor):
    chosen = [factories.place(channel, f"A-{i}", lines=[("TEE", 1)]).shipments.get() for i in range(3)]
    response = boss.post(
        "/admin/orders/shipment/",
        {"action": "make_pick_list", "_selected_action": [chosen[0].pk, chosen[2].pk]},
        follow=True,
    )
    assert response.status_code == 200
    pick_list = PickList.objects.get()
    assert set(pick_list.shipments.values_list("pk", flat=True)) == {chosen[0].pk, chosen[2].pk}
    assert Shipment.objects.get(pk=chosen[1].pk).status == "pending"
    assert pick_list.number in response.content.decode()


def test_order_changelist_filters_orders_at_risk(boss, channel, floor):
    today = timezone.now().date()
    due = factories.place(channel, "AR-1", lines=[("TEE", 1)], promised_delivery_date=today)
    later = factories.place(channel, "AR-2", lines=[("TEE", 1)], promised_delivery_date=today + dt.timedelta(days=9))
    page = boss.get("/admin/orders/order/?at_risk=yes").content.decode()
    assert due.number in page
    assert later.number not in page


def test_floor_models_have_changelists(boss, channel, floor):
    location = factories.LocationFactory(code="DS", kind=Location.Kind.DROPSHIP)
    partner = partner_save(location=location, name="Drop Co", email="po@drop.example")
    for url in ("picklist", "stationscan", "trackingevent", "fulfilmentpartner", "partnerkey"):
        assert boss.get(f"/admin/orders/{url}/").status_code == 200, url
    response = boss.post(
        "/admin/orders/fulfilmentpartner/", {"action": "create_key", "_selected_action": [partner.pk]}, follow=True
    )
    assert "pk_" in response.content.decode()
    assert PartnerKey.objects.filter(partner=partner).count() == 1


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_floor_changelists_cost_the_same_queries_for_1_and_20_rows(boss, staff_api, channel, floor):
    from orders import stations

    def one_more(i):
        shipment = factories.place(channel, f"Q-{i}", lines=[("TEE", 1)]).shipments.get()
        staff_api.post("/api/v1/pick-lists/", {"location": "MAIN", "max_shipments": 1}, format="json")
        stations.scan_record(shipment=shipment, station="pick", code="CAP", actor="t")

    one_more(0)
    counts = {u: _queries(boss, u) for u in ("/admin/orders/picklist/", "/admin/orders/stationscan/")}
    for i in range(1, 20):
        one_more(i)
    assert {u: _queries(boss, u) for u in counts} == counts
