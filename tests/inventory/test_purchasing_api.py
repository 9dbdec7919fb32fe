"""/api/v1/suppliers/, /api/v1/supplier-products/, /api/v1/purchase-orders/ (API.md)."""

from decimal import Decimal

import pytest
from django.core import mail

from inventory.models import PurchaseOrder, StockItem, StockMovement, Supplier
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(db):
    return Supplier.objects.create(name="Acme", email="orders@acme.test", lead_time_days=5)


@pytest.fixture
def goods(warehouse):
    return factories.ProductFactory(sku="TEE"), factories.ProductFactory(sku="MUG")


def test_supplier_crud(staff_api):
    r = staff_api.post("/api/v1/suppliers/", {"name": "Bolt", "email": "b@bolt.test", "lead_time_days": 3})
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    assert r.json()["lead_time_days"] == 3
    assert r.json()["on_time_rate_pct"] is None
    r = staff_api.patch(f"/api/v1/suppliers/{sid}/", {"lead_time_days": 9}, format="json")
    assert r.status_code == 200
    assert r.json()["lead_time_days"] == 9
    assert staff_api.get(f"/api/v1/suppliers/{sid}/").json()["email"] == "b@bolt.test"
    assert staff_api.delete(f"/api/v1/suppliers/{sid}/").status_code == 204
    r = staff_api.post("/api/v1/suppliers/", {"name": "X", "email": "not-an-email"})
    assert r.status_code == 400
    assert r.json()["errors"][0]["attr"] == "email"


def test_supplier_products(staff_api, acme, goods):
    r = staff_api.post(
        "/api/v1/supplier-products/",
        {"supplier": acme.pk, "sku": "TEE", "supplier_sku": "AC-1", "unit_cost": "4.10", "preferred": True},
        format="json",
    )
    assert r.status_code == 201, r.content
    r = staff_api.get("/api/v1/supplier-products/?sku=TEE")
    assert [row["supplier_sku"] for row in r.json()["results"]] == ["AC-1"]


def test_purchase_order_flow_over_the_api(staff_api, acme, goods, django_capture_on_commit_callbacks):
    r = staff_api.post(
        "/api/v1/purchase-orders/",
        {
            "supplier": acme.pk,
            "location": "MAIN",
            "expected_on": "2026-12-01",
            "lines": [
                {"sku": "TEE", "quantity": 5, "unit_cost": "4.00"},
                {"sku": "MUG", "quantity": 2, "unit_cost": "2.50"},
            ],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    po = r.json()
    assert po["status"] == "draft"
    assert po["total"] == "25.00"
    assert po["location"] == "MAIN"
    url = f"/api/v1/purchase-orders/{po['id']}"

    with django_capture_on_commit_callbacks(execute=True):
        r = staff_api.post(f"{url}/send/")
    assert r.status_code == 200
    assert r.json()["status"] == "sent"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].attachments[0][0].endswith(".csv")

    r = staff_api.post(f"{url}/receive/", {"lines": [{"sku": "TEE", "quantity": 3}]}, format="json")
    assert r.status_code == 200
    assert r.json()["status"] == "partially_received"

    r = staff_api.post(f"{url}/receive/", {"lines": [{"sku": "TEE", "quantity": 3}]}, format="json")
    assert r.status_code == 409
    assert r.json()["errors"][0]["code"] == "over_receipt"
    assert StockItem.objects.get(product__sku="TEE").on_hand == 3

    r = staff_api.post(
        f"{url}/receive/", {"lines": [{"sku": "TEE", "quantity": 2}, {"sku": "MUG", "quantity": 2}]}, format="json"
    )
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "received"
    assert body["lead_time_days"] is not None
    assert [(ln["sku"], ln["quantity_received"]) for ln in body["lines"]] == [("TEE", 5), ("MUG", 2)]
    assert staff_api.get(f"/api/v1/suppliers/{acme.pk}/").json()["received_count"] == 1

    r = staff_api.post(f"{url}/cancel/", {"reason": "too late"}, format="json")
    assert r.status_code == 409
    assert r.json()["errors"][0]["code"] == "invalid_transition"


def test_create_validates_lines(staff_api, acme, goods):
    r = staff_api.post(
        "/api/v1/purchase-orders/",
        {"supplier": acme.pk, "location": "NOPE", "lines": [{"sku": "GHOST", "quantity": 1}]},
        format="json",
    )
    assert r.status_code == 400
    assert {e["attr"] for e in r.json()["errors"]} == {"location", "lines.0.sku"}
    assert PurchaseOrder.objects.count() == 0


def test_receive_unknown_sku_is_400(staff_api, acme, goods):
    r = staff_api.post(
        "/api/v1/purchase-orders/",
        {"supplier": acme.pk, "location": "MAIN", "lines": [{"sku": "TEE", "quantity": 1}]},
        format="json",
    )
    url = f"/api/v1/purchase-orders/{r.json()['id']}"
    staff_api.post(f"{url}/send/")
    r = staff_api.post(f"{url}/receive/", {"lines": [{"sku": "MUG", "quantity": 1}]}, format="json")
    assert r.status_code == 400
    assert r.json()["errors"][0]["attr"] == "lines.0.sku"
    assert not StockMovement.objects.exists()


def test_channel_key_cannot_buy(channel_api, acme):
    assert channel_api.get("/api/v1/purchase-orders/").status_code == 403
    assert channel_api.get("/api/v1/suppliers/").status_code == 403


@pytest.mark.parametrize("rows", [1, 20])
def test_purchase_order_list_costs_constant_queries(staff_api, acme, goods, rows, django_assert_num_queries):
    from inventory import purchasing

    for _ in range(rows):
        purchasing.purchase_order_create(
            supplier=acme,
            location_code="MAIN",
            lines=[purchasing.POLineInput("TEE", 2, Decimal("1.00")), purchasing.POLineInput("MUG", 1)],
            actor="t",
        )
    staff_api.get("/api/v1/suppliers/")  # warm the token/user lookups out of the count
    with django_assert_num_queries(3):  # token+user, purchase orders, their lines
        r = staff_api.get("/api/v1/purchase-orders/")
    assert len(r.json()["results"]) == rows


@pytest.mark.parametrize("rows", [1, 20])
def test_supplier_list_costs_constant_queries(staff_api, rows, django_assert_num_queries):
    Supplier.objects.bulk_create(Supplier(name=f"S{i}", email=f"s{i}@x.test") for i in range(rows))
    with django_assert_num_queries(2):
        r = staff_api.get("/api/v1/suppliers/")
    assert len(r.json()["results"]) == rows
