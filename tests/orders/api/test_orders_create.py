"""POST /api/v1/orders/: API.md's example as written, safe retries, and every kind of bad input."""

from __future__ import annotations

import json

import pytest

from inventory.models import StockItem
from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"

# API.md's request example, verbatim.
API_MD_EXAMPLE = """
{
  "external_id": "WEB-10023",
  "placed_at": "2026-11-20T14:03:00Z",
  "currency": "USD",
  "customer": {"email": "ana@example.com", "name": "Ana Silva", "phone": "+1 555 0100", "kind": "consumer"},
  "shipping_address": {"name": "Ana Silva", "line1": "1 Main St", "line2": "", "city": "Springfield",
                       "region": "IL", "postal_code": "62701", "country": "US"},
  "lines": [{"sku": "TEE-RED-M", "quantity": 2, "unit_price": "19.90"}],
  "shipping_method": "standard",
  "payment_status": "paid",
  "promised_delivery_date": "2026-11-25",
  "notes": ""
}
"""

ORDER_FIELDS = {
    "id", "number", "channel", "external_id", "status", "placed_at", "received_at", "updated_at",
    "promised_delivery_date", "delivered_at", "currency", "customer", "shipping_address", "lines", "totals",
    "shipments", "partially_shipped",
}  # fmt: skip
LINE_FIELDS = {
    "id", "sku", "name", "quantity", "unit_price", "quantity_reserved", "quantity_backordered",
    "quantity_shipped", "quantity_returned", "quantity_cancelled",
}  # fmt: skip
SHIPMENT_FIELDS = {
    "id", "number", "location", "fulfillment", "status", "carrier", "tracking_number", "tracking_url",
    "shipped_at", "delivered_at", "lines",
}  # fmt: skip


@pytest.fixture
def tee(warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M", name="Tee red M")
    factories.stock(product, warehouse, 5, bin="A-01")
    return product


def post(client, payload):
    return client.post(URL, payload, format="json")


def errors(response) -> list[tuple[str, str | None]]:
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    for error in body["errors"]:
        assert {"code", "detail", "attr"} <= set(error), error
        assert error["detail"]
    return [(e["code"], e["attr"]) for e in body["errors"]]


def attrs(response) -> set[str | None]:
    return {attr for _, attr in errors(response)}


def test_api_md_example_places_an_order_with_the_documented_shape(channel_api, tee):
    response = channel_api.post(URL, API_MD_EXAMPLE, content_type="application/json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= ORDER_FIELDS
    assert body["number"] == f"SO-{body['id']:06d}"
    assert (body["channel"], body["external_id"], body["status"]) == ("webstore", "WEB-10023", "received")
    assert body["placed_at"] == "2026-11-20T14:03:00Z"
    assert body["received_at"].endswith("Z")
    assert (body["promised_delivery_date"], body["delivered_at"], body["currency"]) == ("2026-11-25", None, "USD")
    assert body["customer"] == {
        "email": "ana@example.com",
        "name": "Ana Silva",
        "phone": "+1 555 0100",
        "kind": "consumer",
    }
    assert body["shipping_address"] == {
        "name": "Ana Silva", "line1": "1 Main St", "line2": "", "city": "Springfield",
        "region": "IL", "postal_code": "62701", "country": "US",
    }  # fmt: skip
    [line] = body["lines"]
    assert set(line) == LINE_FIELDS
    assert {k: v for k, v in line.items() if k != "id"} == {
        "sku": "TEE-RED-M", "name": "Tee red M", "quantity": 2, "unit_price": "19.90",
        "quantity_reserved": 2, "quantity_backordered": 0, "quantity_shipped": 0, "quantity_returned": 0,
        "quantity_cancelled": 0,
    }  # fmt: skip
    assert body["totals"] == {"subtotal": "39.80", "shipping": "0.00", "tax": "0.00", "total": "39.80"}
    [shipment] = body["shipments"]
    assert set(shipment) >= SHIPMENT_FIELDS
    assert shipment["number"] == f"SH-{shipment['id']:06d}"
    assert (shipment["location"], shipment["fulfillment"], shipment["status"]) == ("MAIN", "own", "pending")
    assert (shipment["carrier"], shipment["tracking_number"], shipment["shipped_at"]) == (None, None, None)
    assert shipment["lines"] == [{"sku": "TEE-RED-M", "quantity": 2}]
    assert body["partially_shipped"] is False
    assert StockItem.objects.get(product=tee).reserved == 2


def test_only_the_required_fields_are_enough(channel_api, tee):
    payload = {
        "external_id": "MIN-1",
        "customer": {"email": "min@example.com"},
        "shipping_address": {"name": "M", "line1": "1 St", "city": "X", "postal_code": "1", "country": "us"},
        "lines": [{"sku": "TEE-RED-M", "quantity": 1}],
    }

    response = post(channel_api, payload)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["currency"] == "USD"  # the channel's
    assert body["lines"][0]["unit_price"] == "19.90"  # the product's price
    assert body["customer"]["kind"] == "consumer"
    assert body["shipping_address"]["country"] == "US"
    assert body["placed_at"]


def test_shortage_is_backordered_and_the_response_shows_it(channel_api, tee):
    response = post(channel_api, factories.order_payload(lines=[{"sku": "TEE-RED-M", "quantity": 7}]))

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "backordered"
    assert (body["lines"][0]["quantity_reserved"], body["lines"][0]["quantity_backordered"]) == (5, 2)


def test_pending_payment_holds_a_consumer_order(channel_api, tee):
    response = post(channel_api, factories.order_payload(payment_status="pending"))

    assert response.status_code == 201
    assert response.json()["status"] == "on_hold"


def test_same_order_again_is_200_with_the_same_id_and_creates_nothing(channel_api, tee):
    first = post(channel_api, factories.order_payload())
    again = post(channel_api, factories.order_payload())

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert StockItem.objects.get(product=tee).reserved == 2


def test_same_external_id_with_other_content_is_409_idempotency_conflict(channel_api, tee):
    post(channel_api, factories.order_payload())

    response = post(channel_api, factories.order_payload(notes="changed"))

    assert response.status_code == 409
    assert response.json()["type"] == "client_error"
    assert errors(response) == [("idempotency_conflict", "external_id")]
    assert Order.objects.count() == 1


def _line(**overrides):
    return [{"sku": "TEE-RED-M", "quantity": 1, "unit_price": "19.90", **overrides}]


def _without(payload: dict, dotted: str) -> dict:
    *parents, leaf = dotted.split(".")
    target = payload
    for key in parents:
        target = target[key]
    del target[leaf]
    return payload


BAD_LINES = [
    ([{"sku": "NOPE", "quantity": 1}], "lines.0.sku", "unknown_sku"),
    (_line() + [{"sku": "OLD", "quantity": 1}], "lines.1.sku", "inactive_sku"),
    (_line() + _line(quantity=2), "lines.1.sku", "duplicate_sku"),
    (_line(quantity=0), "lines.0.quantity", "min_value"),
    (_line(quantity=-1), "lines.0.quantity", "min_value"),
    (_line(quantity=100_001), "lines.0.quantity", "max_value"),
    (_line(quantity=1.5), "lines.0.quantity", "invalid"),
    (_line(quantity="two"), "lines.0.quantity", "invalid"),
    (_line(unit_price="-1.00"), "lines.0.unit_price", "min_value"),
    (_line(unit_price="cheap"), "lines.0.unit_price", "invalid"),
    ([{"quantity": 1}], "lines.0.sku", "required"),
    ([{"sku": "TEE-RED-M"}], "lines.0.quantity", "required"),
    (_line() + [{"sku": "TEE-RED-M", "quantity": 0}], "lines.1.quantity", "min_value"),
    ([], "lines", "empty"),
    ("TEE-RED-M", "lines", "not_a_list"),
    (["TEE-RED-M"], "lines.0", "invalid"),
]


@pytest.mark.parametrize(("lines", "attr", "code"), BAD_LINES)
def test_bad_lines_are_400_with_the_field_in_attr(channel_api, tee, lines, attr, code):
    factories.ProductFactory(sku="OLD", active=False)

    response = post(channel_api, factories.order_payload(lines=lines))

    assert response.status_code == 400, response.json()
    assert response.json()["type"] == "validation_error"
    assert (code, attr) in errors(response)
    assert not Order.objects.exists()


def test_501_lines_are_400(channel_api, tee):
    lines = [{"sku": f"S{i}", "quantity": 1} for i in range(501)]

    response = post(channel_api, factories.order_payload(lines=lines))

    assert response.status_code == 400
    assert errors(response) == [("max_length", "lines")]


def test_500_lines_are_accepted(channel_api, warehouse):
    for i in range(500):
        factories.ProductFactory(sku=f"S{i}")
    lines = [{"sku": f"S{i}", "quantity": 1} for i in range(500)]

    response = post(channel_api, factories.order_payload(lines=lines))

    assert response.status_code == 201
    assert len(response.json()["lines"]) == 500


@pytest.mark.parametrize(
    ("overrides", "attr"),
    [
        ({"external_id": ""}, "external_id"),
        ({"external_id": "X" * 65}, "external_id"),
        ({"external_id": None}, "external_id"),
        ({"customer": {"email": "not-an-email"}}, "customer.email"),
        ({"customer": {"name": "No Email"}}, "customer.email"),
        ({"customer": {"email": "a@example.com", "kind": "robot"}}, "customer.kind"),
        ({"customer": "ana@example.com"}, "customer"),
        (
            {"shipping_address": {**factories.order_payload()["shipping_address"], "country": "XX"}},
            "shipping_address.country",
        ),
        (
            {"shipping_address": {**factories.order_payload()["shipping_address"], "country": "USA"}},
            "shipping_address.country",
        ),
        ({"shipping_address": {**factories.order_payload()["shipping_address"], "city": ""}}, "shipping_address.city"),
        ({"placed_at": "yesterday"}, "placed_at"),
        ({"promised_delivery_date": "25/11/2026"}, "promised_delivery_date"),
        ({"currency": "DOLLARS"}, "currency"),
        ({"payment_status": "maybe"}, "payment_status"),
        ({"notes": 12}, None),  # a number where a string goes is coerced, not an error
    ],
)
def test_bad_fields_are_400_with_the_field_in_attr(channel_api, tee, overrides, attr):
    response = post(channel_api, factories.order_payload(**overrides))

    if attr is None:
        assert response.status_code == 201
        return
    assert response.status_code == 400, response.json()
    assert attr in attrs(response)


@pytest.mark.parametrize(
    "field",
    [
        "external_id",
        "customer",
        "customer.email",
        "shipping_address",
        "shipping_address.name",
        "shipping_address.line1",
        "shipping_address.city",
        "shipping_address.postal_code",
        "shipping_address.country",
        "lines",
    ],
)
def test_each_required_field_missing_is_400_naming_it(channel_api, tee, field):
    response = post(channel_api, _without(factories.order_payload(), field))

    assert response.status_code == 400
    assert errors(response) == [("required", field)]


def test_all_errors_of_a_payload_are_reported_together(channel_api, tee):
    payload = factories.order_payload(
        external_id="",
        customer={"email": "nope"},
        lines=[{"sku": "TEE-RED-M", "quantity": 0}, {"sku": "TEE-RED-M", "quantity": "x"}],
    )

    response = post(channel_api, payload)

    assert response.status_code == 400
    assert {"external_id", "customer.email", "lines.0.quantity", "lines.1.quantity"} <= attrs(response)


@pytest.mark.parametrize("body", ["{not json", "", "[1, 2]", "null", '"a string"', "42"])
def test_malformed_or_non_object_json_is_400_never_500(channel_api, tee, body):
    response = channel_api.post(URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error" or response.json()["errors"][0]["code"] == "parse_error"
    errors(response)


def test_a_body_over_1_mib_is_413_in_the_envelope(channel_api, tee):
    payload = factories.order_payload(notes="x" * (1024 * 1024))

    response = channel_api.post(URL, json.dumps(payload), content_type="application/json")

    assert response.status_code == 413
    assert response.json()["type"] == "client_error"
    assert errors(response) == [("request_too_large", None)]
    assert not Order.objects.exists()


def test_a_body_just_under_1_mib_is_parsed(channel_api, tee):
    payload = factories.order_payload(notes="")
    size = len(json.dumps(payload))
    payload["notes"] = "x" * (1024 * 1024 - size - 10)

    response = channel_api.post(URL, json.dumps(payload), content_type="application/json")

    assert response.status_code == 400  # parsed: notes is longer than 2000 characters
    assert attrs(response) == {"notes"}


def test_a_form_encoded_post_is_parsed_not_a_500(channel_api, tee):
    response = channel_api.post(URL, {"external_id": "F-1"})

    assert response.status_code in (400, 415)
    errors(response)
