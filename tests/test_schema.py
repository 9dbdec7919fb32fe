"""OpenAPI: /api/v1/schema/ generates cleanly, documents the foundation's endpoints and errors; docs render."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_generates_without_warnings_or_errors(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert yaml.safe_load(target.read_text())["openapi"].startswith("3.")


@pytest.fixture(scope="module")
def schema():
    """Generated once for the module (it takes seconds); served over HTTP in the test below."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_is_served_as_json(api):
    response = api.get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200
    assert "/api/v1/orders/" in response.json()["paths"]


FOUNDATION = {
    "/api/v1/orders/": {"get", "post"},
    "/api/v1/orders/{id}/": {"get"},
    "/api/v1/orders/{id}/cancel/": {"post"},
    "/api/v1/orders/{id}/events/": {"get"},
    "/api/v1/availability/": {"get"},
    "/api/v1/products/": {"get", "post"},
    "/api/v1/products/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/locations/": {"get", "post"},
    "/api/v1/locations/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/stock/": {"get"},
    "/api/v1/stock/adjustments/": {"post"},
}


def test_the_schema_documents_every_foundation_endpoint(schema):
    for path, methods in FOUNDATION.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path


def test_placing_an_order_documents_201_200_and_its_errors(schema):
    responses = schema["paths"]["/api/v1/orders/"]["post"]["responses"]

    assert {"201", "200", "400", "401", "403", "409", "413"} <= set(responses)
    for code in ("201", "200"):
        assert responses[code]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Order"


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/v1/orders/{id}/cancel/", "post", {"200", "401", "404", "409"}),
        ("/api/v1/orders/{id}/events/", "get", {"200", "401", "404"}),
        ("/api/v1/stock/adjustments/", "post", {"201", "400", "401", "403", "409"}),
        ("/api/v1/products/{id}/", "delete", {"204", "403", "404", "409"}),
    ],
)
def test_error_responses_are_documented(schema, path, method, codes):
    assert codes <= set(schema["paths"][path][method]["responses"])


def test_the_order_component_has_every_field_api_md_names(schema):
    order = schema["components"]["schemas"]["Order"]["properties"]

    assert {
        "id", "number", "channel", "external_id", "status", "placed_at", "received_at", "updated_at",
        "promised_delivery_date", "delivered_at", "currency", "customer", "shipping_address", "lines",
        "totals", "shipments", "partially_shipped",
    } <= set(order)  # fmt: skip


def test_channel_keys_and_staff_tokens_are_both_documented(schema):
    schemes = schema["components"]["securitySchemes"]

    assert schemes["channelKey"]["in"] == "header"
    assert schemes["tokenAuth"]["in"] == "header"


def test_the_docs_page_renders(api):
    response = api.get("/api/v1/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content.lower()
