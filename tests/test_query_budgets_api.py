"""List endpoints not pinned elsewhere cost the same queries for 1 row and for 20 (issue 8).

tests/test_query_budgets_coverage.py checks that every list the API answers is
pinned here or in its app's tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inventory.models import Location, Supplier, SupplierProduct
from orders import lifecycle
from orders.partners import partner_key_create, partner_save
from tests import factories

pytestmark = pytest.mark.django_db


def _get(client: APIClient, url: str, params=None) -> tuple[int, object]:
    """(queries, JSON body) of one GET."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def test_availability_costs_the_same_queries_for_1_and_20_skus(channel_api, channel, warehouse):
    east = factories.LocationFactory(code="EAST", priority=2)
    channel.locations.add(east)
    skus = [f"AV-{i:02d}" for i in range(20)]
    for sku in skus:
        product = factories.ProductFactory(sku=sku)
        factories.stock(product, warehouse, 5)
        factories.stock(product, east, 3)
    channel_api.get("/api/v1/availability/", {"sku": "AV-00"})  # the first use of a key stamps it
    one, body = _get(channel_api, "/api/v1/availability/", {"sku": skus[:1]})
    assert body == [{"sku": "AV-00", "available": 8}]
    twenty, body = _get(channel_api, "/api/v1/availability/", {"sku": skus})
    assert len(body) == 20
    assert twenty == one


def test_order_events_cost_the_same_queries_for_1_and_20_more_events(channel_api, channel, warehouse):
    factories.stock(factories.ProductFactory(sku="TEE"), warehouse, 5)
    order = factories.place(channel, "EV-1", [("TEE", 1)])
    url = f"/api/v1/orders/{order.pk}/events/"
    channel_api.get(url)  # the first use of a key stamps it
    one, body = _get(channel_api, url)
    placing = len(body)
    lifecycle.record_many([lifecycle.event(order, "note", actor="test", data={"n": i}) for i in range(20)])
    twenty, body = _get(channel_api, url)
    assert len(body) == placing + 20
    assert twenty == one


def test_partner_shipments_cost_the_same_queries_for_1_and_20_shipments(channel, warehouse):
    location = factories.LocationFactory(code="SOFAS", kind=Location.Kind.DROPSHIP, priority=0)
    channel.locations.add(location)
    factories.stock(factories.ProductFactory(sku="SOFA"), location, 100)
    factories.stock(factories.ProductFactory(sku="LAMP"), location, 100)
    _, raw = partner_key_create(partner=partner_save(location=location, name="Sofas Ltd", email="o@sofas.example"))
    partner = APIClient()
    partner.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    factories.place(channel, "DS-0", [("SOFA", 1)])
    partner.get("/api/v1/partner/shipments/")  # the first use of a key stamps it
    one, body = _get(partner, "/api/v1/partner/shipments/")
    assert len(body["results"]) == 1
    for i in range(1, 20):
        factories.place(channel, f"DS-{i}", [("SOFA", 1), ("LAMP", 2)])
    twenty, body = _get(partner, "/api/v1/partner/shipments/")
    assert len(body["results"]) == 20
    assert twenty == one


def test_overstock_costs_the_same_queries_for_1_and_20_rows(staff_api, warehouse):
    def capped(i: int) -> None:
        item = factories.stock(factories.ProductFactory(sku=f"OV-{i:02d}"), factories.LocationFactory(), 9)
        item.max_stock = 4
        item.save(update_fields=["max_stock"])

    capped(0)
    one, body = _get(staff_api, "/api/v1/stock/overstock/")
    assert (len(body["results"]), body["total_value"]) == (1, "40.00")
    for i in range(1, 20):
        capped(i)
    twenty, body = _get(staff_api, "/api/v1/stock/overstock/")
    assert (len(body["results"]), body["total_value"]) == (20, "800.00")
    assert twenty == one


def test_supplier_products_cost_the_same_queries_for_1_and_20_rows(staff_api):
    def offer(i: int) -> None:
        SupplierProduct.objects.create(
            supplier=Supplier.objects.create(name=f"Supplier {i}", email=f"s{i}@example.com"),
            product=factories.ProductFactory(sku=f"SP-{i:02d}"),
            supplier_sku=f"X-{i}",
            unit_cost=Decimal("2.50"),
        )

    offer(0)
    one, body = _get(staff_api, "/api/v1/supplier-products/")
    assert [row["sku"] for row in body["results"]] == ["SP-00"]
    for i in range(1, 20):
        offer(i)
    twenty, body = _get(staff_api, "/api/v1/supplier-products/")
    assert len(body["results"]) == 20
    assert twenty == one


def test_kpi_series_costs_the_same_queries_for_1_and_20_days(staff_api, channel, warehouse):
    factories.stock(factories.ProductFactory(sku="TEE"), warehouse, 100)
    start = date(2025, 3, 1)
    for day in range(20):
        placed = datetime(2025, 3, 1, 12, tzinfo=UTC) + timedelta(days=day)
        factories.place(channel, f"KS-{day}", [("TEE", 1 + day % 3)], placed_at=placed)
    url = "/api/v1/metrics/kpis/series/"

    def series(days: int):
        return _get(staff_api, url, {"start": start, "end": start + timedelta(days=days), "interval": "day"})

    one, body = series(1)
    assert [point["orders"] for point in body["results"]] == [1]
    twenty, body = series(20)
    assert [point["orders"] for point in body["results"]] == [1] * 20
    assert twenty == one
