"""Overstock: on hand above a stock row's max_stock, valued at cost, in the API and the admin."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory import selectors
from inventory.models import StockItem
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/stock/overstock/"


def capped(product, location, on_hand: int, max_stock: int | None) -> StockItem:
    item = factories.stock(product, location, on_hand)
    item.max_stock = max_stock
    item.save(update_fields=["max_stock"])
    return item


@pytest.fixture
def overstock(warehouse):
    east = factories.LocationFactory(code="EAST")
    tee = factories.ProductFactory(sku="TEE", cost=Decimal("2.50"))
    mug = factories.ProductFactory(sku="MUG", cost=Decimal("4.00"))
    cap = factories.ProductFactory(sku="CAP", cost=Decimal("9.00"))
    capped(tee, warehouse, 30, 20)  # 10 over: 25.00
    capped(mug, warehouse, 8, 8)  # at the maximum: not over
    capped(cap, warehouse, 500, None)  # no maximum: never over
    capped(mug, east, 7, 4)  # 3 over: 12.00
    return {"east": east, "tee": tee}


def test_overstock_lists_units_above_max_valued_at_cost(staff_api, overstock):
    r = staff_api.get(URL)

    assert r.status_code == 200, r.content
    body = r.json()
    rows = {(x["sku"], x["location"]): x for x in body["results"]}
    assert set(rows) == {("TEE", "MAIN"), ("MUG", "EAST")}
    tee = rows[("TEE", "MAIN")]
    assert {k: tee[k] for k in ("on_hand", "max_stock", "over", "unit_cost", "value")} == {
        "on_hand": 30,
        "max_stock": 20,
        "over": 10,
        "unit_cost": "2.50",
        "value": "25.00",
    }
    assert rows[("MUG", "EAST")]["value"] == "12.00"
    assert body["total_value"] == "37.00"


def test_overstock_filters_by_location(staff_api, overstock):
    body = staff_api.get(URL, {"location": "EAST"}).json()

    assert [(x["sku"], x["over"]) for x in body["results"]] == [("MUG", 3)]
    assert body["total_value"] == "12.00"
    assert selectors.stock_over_value(location="MAIN") == Decimal("25.00")


def test_overstock_is_staff_only(api, channel_api, overstock):
    assert api.get(URL).status_code in (401, 403)
    assert channel_api.get(URL).status_code == 403


def test_overstock_is_documented_in_openapi():
    from django.urls import path
    from drf_spectacular.generators import SchemaGenerator

    from inventory.api.reports_views import OverstockView

    patterns = [path("api/v1/stock/overstock/", OverstockView.as_view())]  # this view only: fast
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)

    operation = schema["paths"]["/api/v1/stock/overstock/"]["get"]
    assert "location" in {p["name"] for p in operation["parameters"]}
    assert "max_stock" in operation["description"]
    row = schema["components"]["schemas"]["Overstock"]["properties"]
    assert {"sku", "location", "on_hand", "max_stock", "over", "unit_cost", "value"} <= set(row)


def test_reserved_units_still_count_as_on_hand_overstock(staff_api, channel, overstock):
    factories.place(channel, lines=[("TEE", 5)])

    [row] = [x for x in staff_api.get(URL).json()["results"] if x["sku"] == "TEE"]
    assert (row["reserved"], row["over"]) == (5, 10)


def test_the_stock_admin_filters_overstock_and_shows_its_value(client, manager, overstock):
    client.force_login(manager)

    page = client.get("/admin/inventory/stockitem/", {"availability": "over"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Overstock above max stock, at cost: 37.00 over all locations." in html
    assert "10 (25.00)" in html
    assert "3 (12.00)" in html
    assert "CAP" not in html
    east = client.get(
        "/admin/inventory/stockitem/", {"availability": "over", "location__id__exact": overstock["east"].pk}
    )
    assert "Overstock above max stock, at cost: 12.00 at EAST." in east.content.decode()


def test_max_stock_is_edited_on_the_stock_admin_page(client, manager, overstock):
    client.force_login(manager)
    item = StockItem.objects.get(product=overstock["tee"], location__code="MAIN")

    page = client.get(f"/admin/inventory/stockitem/{item.pk}/change/")

    assert 'name="max_stock"' in page.content.decode()
