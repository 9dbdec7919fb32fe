"""Staff roles: each group may do its station's job and nothing it should not."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from orders.roles import ROLES, ensure_roles
from tests import factories

from .conftest import role_api

DIMS = {"weight_grams": 100, "length_mm": 10, "width_mm": 10, "height_mm": 10}


@pytest.mark.django_db
def test_roles_are_created_idempotently():
    ensure_roles()
    counts = {g.name: g.permissions.count() for g in Group.objects.filter(name__in=ROLES)}
    ensure_roles()
    assert {g.name: g.permissions.count() for g in Group.objects.filter(name__in=ROLES)} == counts
    assert set(counts) == {"picker", "packer", "shipping", "returns", "inventory", "manager"}
    assert all(counts.values())


@pytest.mark.django_db
def test_roles_exist_after_migrate_without_running_anything():
    """The post_migrate handler made them when the test database was migrated (or flushed)."""
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)


@pytest.mark.django_db
def test_a_picker_cannot_ship_deliver_or_refund():
    ensure_roles()
    user = factories.UserFactory(username="pia", is_staff=True)
    user.groups.add(Group.objects.get(name="picker"))
    assert user.has_perm("orders.pick_shipment")
    assert not user.has_perm("orders.ship_shipment")
    assert not user.has_perm("orders.deliver_shipment")
    assert not any(p.startswith("returns.") for p in user.get_all_permissions())


def test_each_role_may_do_only_its_step(channel, floor):
    picker, _ = role_api("picker")
    packer, _ = role_api("packer")
    shipping, _ = role_api("shipping")
    order = factories.place(channel, "R-1", lines=[("TEE", 1)])
    url = f"/api/v1/shipments/{order.shipments.get().pk}"
    pick = {"lines": [{"sku": "TEE", "quantity": 1}]}
    ship = {"carrier": "ups", "tracking_number": "1Z1"}

    assert picker.get("/api/v1/shipments/").status_code == 200
    assert packer.post(url + "/pick/", pick, format="json").status_code == 403
    assert shipping.post("/api/v1/pick-lists/", {"location": "MAIN"}, format="json").status_code == 403
    assert picker.post("/api/v1/pick-lists/", {"location": "MAIN"}, format="json").status_code == 201
    assert picker.post(url + "/pick/", pick, format="json").status_code == 200

    assert picker.post(url + "/pack/", DIMS, format="json").status_code == 403
    assert packer.post(url + "/pack/", DIMS, format="json").status_code == 200

    assert picker.post(url + "/ship/", ship, format="json").status_code == 403
    assert packer.post(url + "/ship/", ship, format="json").status_code == 403
    assert shipping.post(url + "/ship/", ship, format="json").status_code == 200
    assert picker.post(url + "/deliver/", {}, format="json").status_code == 403
    assert shipping.post(url + "/deliver/", {}, format="json").status_code == 200


def test_staff_without_a_role_is_403(channel, floor):
    from rest_framework.test import APIClient

    user = factories.UserFactory(username="nobody", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {factories.staff_token(user)}")
    assert client.get("/api/v1/shipments/").status_code == 403
