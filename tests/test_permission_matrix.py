"""The API's permission matrix, endpoint by endpoint: who may call what under /api/v1/.

The (method, path) list comes from the generated OpenAPI schema, so a new endpoint
without a row in ``EXPECTED`` fails here until someone decides who may call it.
One database set-up (``seed_demo``), one test looping over the table; every request
runs in a rolled-back savepoint so a DELETE or a POST does not change what the next one sees.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests import factories

PRINCIPALS = ("anonymous", "channel", "partner", "picker", "packer", "shipping", "returns", "manager")
STAFF = ("picker", "packer", "shipping", "returns", "manager")

ALL_STAFF = {"picker", "packer", "shipping", "returns", "manager"}
MANAGER = {"manager"}
CHANNEL_AND_MANAGER = {"channel", "manager"}


def _crud(path: str, readers: set[str], writers: set[str], *, put: bool = True) -> dict:
    rows = {("GET", path): readers, ("POST", path): writers, ("GET", path + "{id}/"): readers}
    rows[("DELETE", path + "{id}/")] = writers
    if put:
        rows[("PUT", path + "{id}/")] = writers
        rows[("PATCH", path + "{id}/")] = writers
    return rows


V = "/api/v1/"
# Who gets an answer other than 401/403. Everyone else must get 401 or 403. Anonymous gets nothing.
EXPECTED: dict[tuple[str, str], set[str]] = {
    # Catalogue and planning reads: any staff member, and channels (their own channel's figures only).
    ("GET", V + "availability/"): {"channel", *ALL_STAFF},
    ("POST", V + "sourcing/simulate/"): {"channel", *ALL_STAFF},
    ("GET", V + "metrics/kpis/"): {"channel", *ALL_STAFF},
    ("GET", V + "metrics/kpis/series/"): {"channel", *ALL_STAFF},
    # Orders: channels place and manage their own; every floor role reads them; only managers release holds.
    ("GET", V + "orders/"): {"channel", *ALL_STAFF},
    ("POST", V + "orders/"): CHANNEL_AND_MANAGER,
    ("GET", V + "orders/{id}/"): {"channel", *ALL_STAFF},
    ("POST", V + "orders/{id}/cancel/"): CHANNEL_AND_MANAGER,
    ("POST", V + "orders/{id}/confirm-payment/"): CHANNEL_AND_MANAGER,
    ("GET", V + "orders/{id}/events/"): {"channel", *ALL_STAFF},
    ("POST", V + "orders/{id}/release-hold/"): MANAGER,
    ("GET", V + "orders/{id}/routing/"): {"channel", *ALL_STAFF},
    ("GET", V + "inbound-orders/"): CHANNEL_AND_MANAGER,
    ("GET", V + "inbound-orders/{id}/"): CHANNEL_AND_MANAGER,
    ("POST", V + "inbound-orders/{id}/replay/"): CHANNEL_AND_MANAGER,
    **_crud(V + "webhook-endpoints/", CHANNEL_AND_MANAGER, CHANNEL_AND_MANAGER, put=False),
    # Partner keys reach only the partner API, and nothing else reaches it.
    ("GET", V + "partner/shipments/"): {"partner"},
    ("GET", V + "partner/shipments/{id}/"): {"partner"},
    ("POST", V + "partner/shipments/{id}/deliver/"): {"partner"},
    ("POST", V + "partner/shipments/{id}/ship/"): {"partner"},
    # The floor: each station's action is its role's (and the manager's).
    ("GET", V + "shipments/"): ALL_STAFF,
    ("GET", V + "shipments/{id}/"): ALL_STAFF,
    ("GET", V + "shipments/{id}/label.pdf"): ALL_STAFF,
    ("GET", V + "shipments/{id}/packing-slip.pdf"): ALL_STAFF,
    ("POST", V + "shipments/{id}/pick/"): {"picker", "manager"},
    ("POST", V + "shipments/{id}/pack/"): {"packer", "manager"},
    ("POST", V + "shipments/{id}/ship/"): {"shipping", "manager"},
    ("POST", V + "shipments/{id}/deliver/"): {"shipping", "manager"},
    ("POST", V + "pick-lists/"): {"picker", "manager"},
    ("GET", V + "pick-lists/{id}/"): {"picker", "manager"},
    ("GET", V + "pick-lists/{id}.pdf"): {"picker", "manager"},
    # Returns: the returns desk and managers decide; channels open and read their customers' returns.
    ("GET", V + "returns/"): {"channel", "returns", "manager"},
    ("POST", V + "returns/"): {"channel", "returns", "manager"},
    ("GET", V + "returns/{id}/"): {"channel", "returns", "manager"},
    **{
        ("POST", V + f"returns/{{id}}/{action}/"): {"returns", "manager"}
        for action in ("approve", "close", "receive", "reject")
    },
    # Inventory master data and stock: read by the roles that need it, written by managers only.
    **_crud(V + "products/", {"picker", "packer", "returns", "manager"}, MANAGER),
    **_crud(V + "locations/", {"picker", "shipping", "manager"}, MANAGER),
    **_crud(V + "suppliers/", MANAGER, MANAGER),
    **_crud(V + "supplier-products/", MANAGER, MANAGER),
    ("GET", V + "stock/"): {"picker", "manager"},
    ("GET", V + "stock/{id}/"): {"picker", "manager"},
    ("GET", V + "stock/low/"): {"picker", "manager"},
    ("GET", V + "stock/dead/"): {"picker", "manager"},
    ("GET", V + "stock/overstock/"): {"picker", "manager"},
    ("POST", V + "stock/adjustments/"): MANAGER,
    ("POST", V + "stock/counts/"): MANAGER,
    ("POST", V + "stock/transfers/"): MANAGER,
    ("GET", V + "purchase-orders/"): MANAGER,
    ("POST", V + "purchase-orders/"): MANAGER,
    ("GET", V + "purchase-orders/{id}/"): MANAGER,
    **{("POST", V + f"purchase-orders/{{id}}/{action}/"): MANAGER for action in ("cancel", "receive", "send")},
}


def _api_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    ]


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _clients() -> dict[str, APIClient]:
    from inventory.models import Location
    from orders.partners import partner_key_create, partner_save

    clients = {"anonymous": APIClient()}
    from channels_app.services import channel_key_create
    from orders.models import Order

    # The key of the channel that owns the first order, so its paths reach objects of its own.
    _, raw = channel_key_create(channel=Order.objects.order_by("pk").first().channel)
    clients["channel"] = APIClient()
    clients["channel"].credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    location = Location.objects.create(code="MATRIX-DS", name="Matrix dropship", kind=Location.Kind.DROPSHIP)
    _, raw = partner_key_create(partner=partner_save(location=location, name="Matrix", email="m@example.com"))
    clients["partner"] = APIClient()
    clients["partner"].credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    for role in STAFF:
        user = get_user_model().objects.create_user(f"matrix-{role}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        clients[role] = APIClient()
        clients[role].credentials(HTTP_AUTHORIZATION=f"Token {factories.staff_token(user)}")
    return clients


def _objects_seed_demo_does_not_make() -> None:
    """One of each kind the path parameters need, owned by the first order's channel where that matters."""
    from django.utils import timezone

    from channels_app.models import InboundOrder, WebhookEndpoint
    from inventory.models import Location, Product, PurchaseOrder, Supplier, SupplierProduct
    from orders.models import Order, PickList
    from returns.models import Return

    order = Order.objects.order_by("pk").first()
    warehouse = Location.objects.filter(kind=Location.Kind.OWN).first()
    supplier = Supplier.objects.create(name="Matrix supplies")
    SupplierProduct.objects.create(supplier=supplier, product=Product.objects.first(), unit_cost=1)
    PurchaseOrder.objects.create(supplier=supplier, location=warehouse)
    PickList.objects.create(location=warehouse, created_by="matrix")
    Return.objects.create(order=order, requested_at=timezone.now())
    WebhookEndpoint.objects.create(channel=order.channel, url="https://hooks.example.com/", events=[], secret="s")
    InboundOrder.objects.create(
        channel=order.channel, way_in="api", format="api", payload={}, digest="0" * 64, status="failed"
    )


def _ids() -> dict[str, int]:
    from channels_app.models import InboundOrder, WebhookEndpoint
    from inventory.models import Location, Product, PurchaseOrder, StockItem, Supplier, SupplierProduct
    from orders.models import Order, PickList, Shipment
    from returns.models import Return

    models = {
        "inbound-orders": InboundOrder,
        "locations": Location,
        "orders": Order,
        "partner/shipments": Shipment,
        "pick-lists": PickList,
        "products": Product,
        "purchase-orders": PurchaseOrder,
        "returns": Return,
        "shipments": Shipment,
        "stock": StockItem,
        "supplier-products": SupplierProduct,
        "suppliers": Supplier,
        "webhook-endpoints": WebhookEndpoint,
    }
    return {
        prefix: model.objects.order_by("pk").values_list("pk", flat=True).first() for prefix, model in models.items()
    }


def test_every_endpoint_answers_each_principal_as_the_matrix_says(db, fast_passwords):
    call_command("seed_demo", "--orders", "30", stdout=StringIO())
    call_command("create_roles", stdout=StringIO())
    _objects_seed_demo_does_not_make()
    clients = _clients()
    ids = _ids()
    missing_objects = [prefix for prefix, pk in ids.items() if pk is None]
    assert not missing_objects, f"the set-up made no {missing_objects}: paths would only test 404s"
    operations = _api_operations()
    unlisted = [op for op in operations if op not in EXPECTED]
    stale = [op for op in EXPECTED if op not in operations]
    mismatches = []
    for method, path in operations:
        if (method, path) not in EXPECTED:
            continue
        prefix = re.match(r"/api/v1/(partner/shipments|[^/{]+)", path).group(1)
        url = re.sub(r"\{\w+\}", str(ids.get(prefix)), path)
        for principal, client in clients.items():
            with transaction.atomic():
                status = getattr(client, method.lower())(url, {}, format="json").status_code
                transaction.set_rollback(True)
            if (status not in (401, 403)) != (principal in EXPECTED[(method, path)]):
                want = "allowed" if principal in EXPECTED[(method, path)] else "401/403"
                mismatches.append(f"{method} {url} as {principal}: {status}, expected {want}")
    assert not unlisted, f"endpoints with no row in EXPECTED (decide who may call them): {unlisted}"
    assert not stale, f"rows in EXPECTED for endpoints that no longer exist: {stale}"
    assert not mismatches, "\n".join(mismatches)
