"""Every admin changelist and every API list has a pinned query budget (issue 8).

A pin is a test that asks for the page with 1 row and with 20 (or "whatever its
size") and fails when the count of queries differs, so an N+1 added later fails
``make test``. The registries below name that test for each changelist and each
list; a new admin or list endpoint without one fails here until its pin is
written and named.
"""

from __future__ import annotations

import importlib
import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.mixins import ListModelMixin

ADMIN_BUDGETS = "tests.test_query_budgets_admin.test_changelist_costs_the_same_queries_for_1_and_20_rows"
ORDERS_ADMIN = "tests.test_admin_pages.test_changelist_queries_do_not_grow_with_rows"
FLOOR_ADMIN = "tests.orders.fulfilment.test_admin_floor.test_floor_changelists_cost_the_same_queries_for_1_and_20_rows"
PURCHASING_ADMIN = "tests.inventory.test_purchasing_admin.test_changelists_cost_constant_queries"

# Admin model label -> the test pinning its changelist.
ADMIN_PINS = {
    # Django's and django-axes' admins: we register none of them, but they are pages of our back office
    # (axes' rows are written by the login throttle), and a budget costs nothing to keep.
    "auth.Group": ADMIN_BUDGETS,
    "auth.User": ADMIN_BUDGETS,
    "axes.AccessAttempt": ADMIN_BUDGETS,
    "axes.AccessFailureLog": ADMIN_BUDGETS,
    "axes.AccessLog": ADMIN_BUDGETS,
    "channels_app.ChannelConnector": ADMIN_BUDGETS,
    "channels_app.ChannelKey": ADMIN_BUDGETS,
    "channels_app.CustomerTerms": ADMIN_BUDGETS,
    "channels_app.InboundOrder": (
        "tests.channels_app.test_admin_channels.test_inbound_changelist_costs_the_same_queries_for_1_and_20_rows"
    ),
    "channels_app.PriceList": ADMIN_BUDGETS,
    "channels_app.SalesChannel": ADMIN_BUDGETS,
    "channels_app.WebhookEndpoint": ADMIN_BUDGETS,
    "channels_app.WebhookMessage": ADMIN_BUDGETS,
    "inventory.ChannelStockRule": ADMIN_BUDGETS,
    "inventory.Location": ADMIN_BUDGETS,
    "inventory.Product": ORDERS_ADMIN,
    "inventory.PurchaseOrder": PURCHASING_ADMIN,
    "inventory.RecurringPurchaseOrder": ADMIN_BUDGETS,
    "inventory.StockItem": ORDERS_ADMIN,
    "inventory.StockMovement": ORDERS_ADMIN,
    "inventory.Supplier": PURCHASING_ADMIN,
    "orders.Customer": ORDERS_ADMIN,
    "orders.FulfilmentPartner": ADMIN_BUDGETS,
    "orders.Order": ORDERS_ADMIN,
    "orders.OrderEvent": ORDERS_ADMIN,
    "orders.OrderLine": ORDERS_ADMIN,
    "orders.PartnerKey": ADMIN_BUDGETS,
    "orders.PickList": FLOOR_ADMIN,
    "orders.Shipment": ORDERS_ADMIN,
    "orders.StationScan": FLOOR_ADMIN,
    "orders.TrackingEvent": ADMIN_BUDGETS,
    "returns.Refund": ADMIN_BUDGETS,
    "returns.Return": "tests.returns.test_admin.test_changelist_costs_a_constant_number_of_queries",
    "returns.ReturnPolicy": ADMIN_BUDGETS,
    "returns.ReturnReceipt": ADMIN_BUDGETS,
    "returns.StoreCreditEntry": ADMIN_BUDGETS,
}

API_BUDGETS = "tests.test_query_budgets_api"
REPORTS = "tests.inventory.test_reorder_and_reports.test_reports_cost_constant_queries"

# API path that answers a list -> the test pinning it.
LIST_PINS = {
    "/api/v1/availability/": f"{API_BUDGETS}.test_availability_costs_the_same_queries_for_1_and_20_skus",
    "/api/v1/inbound-orders/": "tests.channels_app.test_inbound_api.test_list_costs_the_same_queries_whatever_its_size",
    "/api/v1/locations/": "tests.inventory.api.test_locations.test_list_costs_the_same_queries_for_1_and_20_locations",
    "/api/v1/metrics/kpis/series/": f"{API_BUDGETS}.test_kpi_series_costs_the_same_queries_for_1_and_20_days",
    "/api/v1/orders/": "tests.orders.api.test_orders_list.test_list_costs_the_same_queries_for_1_and_20_busy_orders",
    "/api/v1/orders/{id}/events/": f"{API_BUDGETS}.test_order_events_cost_the_same_queries_for_1_and_20_more_events",
    "/api/v1/partner/shipments/": f"{API_BUDGETS}.test_partner_shipments_cost_the_same_queries_for_1_and_20_shipments",
    "/api/v1/products/": "tests.inventory.api.test_products.test_list_costs_the_same_queries_for_1_and_20_products",
    "/api/v1/purchase-orders/": "tests.inventory.test_purchasing_api.test_purchase_order_list_costs_constant_queries",
    "/api/v1/returns/": "tests.returns.api.test_returns_api.test_list_costs_a_constant_number_of_queries",
    "/api/v1/shipments/": (
        "tests.orders.fulfilment.test_shipment_list.test_list_costs_the_same_queries_for_1_and_20_shipments"
    ),
    "/api/v1/stock/": "tests.inventory.api.test_stock.test_list_costs_the_same_queries_for_1_and_20_rows",
    "/api/v1/stock/dead/": REPORTS,
    "/api/v1/stock/low/": REPORTS,
    "/api/v1/stock/overstock/": f"{API_BUDGETS}.test_overstock_costs_the_same_queries_for_1_and_20_rows",
    "/api/v1/supplier-products/": f"{API_BUDGETS}.test_supplier_products_cost_the_same_queries_for_1_and_20_rows",
    "/api/v1/suppliers/": "tests.inventory.test_purchasing_api.test_supplier_list_costs_constant_queries",
    "/api/v1/webhook-endpoints/": (
        "tests.channels_app.test_webhooks.test_endpoint_list_costs_the_same_queries_whatever_its_size"
    ),
}


def _schema_lists() -> set[str]:
    """GET operations of the OpenAPI schema whose 200 is a JSON array or a page of ``results``."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def resolved(node: dict) -> dict:
        while "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[1]]
        return node

    lists = set()
    for path, operations in schema["paths"].items():
        content = operations.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        body = resolved(content.get("application/json", {}).get("schema", {}))
        if body.get("type") == "array" or "results" in body.get("properties", {}):
            lists.add(path)
    return lists


def _routed_lists() -> set[str]:
    """API routes whose GET is a ViewSet's ``list`` or a ListAPIView: also those the schema might leave out."""

    def walk(patterns, prefix: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    lists = set()
    for route, view in walk(get_resolver().url_patterns, "/"):
        actions = getattr(view, "actions", None)
        view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
        if actions is not None:
            is_list = actions.get("get") == "list"
        else:
            is_list = view_class is not None and issubclass(view_class, ListModelMixin)
        if route.startswith("/api/") and is_list:
            path = re.sub(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>", lambda m: "{%s}" % (m[1] or m[2]), route)
            lists.add(path.replace("^", "").replace("$", "").replace("{pk}", "{id}"))
    return lists


def _pinned_test(dotted: str):
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name, None)


def test_every_admin_changelist_has_a_pinned_query_budget():
    registered = {model._meta.label for model in admin.site._registry}
    assert sorted(registered - set(ADMIN_PINS)) == [], "name the test pinning each new changelist in ADMIN_PINS"
    assert sorted(set(ADMIN_PINS) - registered) == [], "these are no longer registered: drop them from ADMIN_PINS"


@pytest.mark.django_db
def test_every_api_list_has_a_pinned_query_budget():
    lists = _schema_lists() | _routed_lists()
    assert len(lists) >= 18  # what the walk finds today; fewer means it stopped seeing some
    assert sorted(lists - set(LIST_PINS)) == [], "name the test pinning each new list endpoint in LIST_PINS"
    assert sorted(set(LIST_PINS) - lists) == [], "these no longer answer a list: drop them from LIST_PINS"


def _pins() -> list[tuple[str, str]]:
    return sorted(ADMIN_PINS.items()) + sorted(LIST_PINS.items())


@pytest.mark.parametrize(("page", "dotted"), _pins(), ids=[page for page, _ in _pins()])
def test_each_pin_is_a_query_budget_test_that_covers_its_page(page, dotted):
    test = _pinned_test(dotted)
    assert callable(test), f"{dotted} does not exist"
    assert test.__name__.startswith("test_"), f"{dotted} is not a test"
    assert "queries" in test.__name__, f"{dotted} is not named as a query budget"
    # A budget parametrized by model covers only the models it names.
    for mark in getattr(test, "pytestmark", []):
        if mark.name == "parametrize" and mark.args[0] in ("model", "label"):
            covered = {value if isinstance(value, str) else value._meta.label for value in mark.args[1]}
            assert page in covered, f"{dotted} does not measure {page}"
