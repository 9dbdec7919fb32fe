"""/api/v1/products/: staff CRUD (API.md "Staff: catalogue, locations and stock")."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from inventory.models import Product
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"
TEE = {
    "sku": "TEE-RED-M",
    "name": "Tee red M",
    "barcode": "4006381333931",
    "weight_grams": 180,
    "cost": "7.50",
    "price": "19.90",
    "active": True,
}


def test_create_read_update_delete(staff_api):
    created = staff_api.post(URL, TEE, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {k: body[k] for k in TEE} == TEE
    url = f"{URL}{body['id']}/"

    assert staff_api.get(url).json() == body
    patched = staff_api.patch(url, {"price": "17.50", "active": False}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["price"], patched.json()["active"]) == ("17.50", False)
    replaced = staff_api.put(url, {**TEE, "name": "Tee red medium"}, format="json")
    assert replaced.json()["name"] == "Tee red medium"

    assert staff_api.delete(url).status_code == 204
    assert not Product.objects.exists()


def test_list_and_filters(staff_api):
    factories.ProductFactory(sku="A", active=True, barcode="111")
    factories.ProductFactory(sku="B", active=False)

    def skus(params=None):
        response = staff_api.get(URL, params or {})
        assert set(response.json()) == {"next", "previous", "results"}
        return sorted(p["sku"] for p in response.json()["results"])

    assert skus() == ["A", "B"]
    assert skus({"sku": "B"}) == ["B"]
    assert skus({"active": "false"}) == ["B"]
    assert skus({"barcode": "111"}) == ["A"]


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({**TEE, "sku": ""}, "sku"),
        ({**TEE, "price": "-1.00"}, "price"),
        ({**TEE, "cost": "-0.01"}, "cost"),
        ({**TEE, "weight_grams": -5}, "weight_grams"),
        ({**TEE, "price": "abc"}, "price"),
        ({k: v for k, v in TEE.items() if k != "name"}, "name"),
    ],
)
def test_bad_input_is_400_naming_the_field(staff_api, payload, attr):
    response = staff_api.post(URL, payload, format="json")

    assert response.status_code == 400
    assert [e["attr"] for e in response.json()["errors"]] == [attr]


def test_a_duplicate_sku_is_400(staff_api):
    factories.ProductFactory(sku="TEE-RED-M")

    response = staff_api.post(URL, TEE, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": "unique",
        "detail": response.json()["errors"][0]["detail"],
        "attr": "sku",
    }


def test_a_product_that_was_ordered_cannot_be_deleted_409(staff_api, channel, warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M")
    factories.place(channel, lines=[("TEE-RED-M", 1)])

    response = staff_api.delete(f"{URL}{product.pk}/")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "protected"
    assert Product.objects.filter(pk=product.pk).exists()


def test_staff_need_the_model_permission(db):
    user = factories.UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_product"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {factories.staff_token(user)}")

    assert client.get(URL).status_code == 200
    assert client.post(URL, TEE, format="json").status_code == 403
    assert not Product.objects.exists()


@pytest.mark.parametrize("size", [1, 20])
def test_list_costs_the_same_queries_for_1_and_20_products(staff_api, size, django_assert_num_queries):
    for i in range(size):
        factories.ProductFactory(sku=f"P{i:02d}")

    with django_assert_num_queries(2):  # token, page
        response = staff_api.get(URL)

    assert len(response.json()["results"]) == size
