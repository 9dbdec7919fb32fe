"""Every payload pushed to POST /api/v1/orders/ is kept raw, with the order it became or its error, and can be
listed and replayed."""

import pytest
from django.db import connection

from channels_app.models import InboundOrder
from orders.models import Order
from tests import factories


@pytest.fixture
def tee(warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M", name="Tee red M")
    factories.stock(product, warehouse, 10)
    return product


def test_pushed_order_is_staged_and_linked_to_the_order(channel_api, tee):
    response = channel_api.post("/api/v1/orders/", factories.order_payload(), format="json")
    assert response.status_code == 201, response.json()
    inbound = InboundOrder.objects.get()
    assert (inbound.way_in, inbound.format, inbound.status) == ("api", "api", "imported")
    assert inbound.order_id == response.json()["id"]
    assert inbound.external_id == "WEB-10023"
    assert inbound.payload == factories.order_payload()
    assert inbound.source == "channel:webstore"


class OutcomeRefused(Exception):
    pass


def test_a_new_orders_outcome_is_written_in_the_orders_transaction(channel_api, tee):
    """Placed and recorded together, or neither: a failing outcome write takes the order back with it."""

    refused = []

    def refuse_the_outcome(execute, sql, params, many, context):
        if 'INSERT INTO "channels_app_inboundorder"' in sql and not refused:  # the first: "imported"
            refused.append(sql)
            raise OutcomeRefused("the outcome could not be written")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_the_outcome), pytest.raises(OutcomeRefused):
        channel_api.post("/api/v1/orders/", factories.order_payload(), format="json")
    assert not Order.objects.exists()
    (inbound,) = InboundOrder.objects.all()
    assert (inbound.status, inbound.order_id) == ("failed", None)
    assert inbound.errors[0]["code"] == "server_error"


def test_same_payload_again_is_a_duplicate_and_answers_200(channel_api, tee):
    first = channel_api.post("/api/v1/orders/", factories.order_payload(), format="json")
    again = channel_api.post("/api/v1/orders/", factories.order_payload(), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert list(InboundOrder.objects.order_by("id").values_list("status", "order_id")) == [
        ("imported", first.json()["id"]),
        ("duplicate", first.json()["id"]),
    ]
    assert Order.objects.count() == 1


def test_conflicting_retry_answers_409_and_is_kept_failed(channel_api, tee):
    channel_api.post("/api/v1/orders/", factories.order_payload(), format="json")
    changed = factories.order_payload(lines=[{"sku": "TEE-RED-M", "quantity": 3}])
    response = channel_api.post("/api/v1/orders/", changed, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "idempotency_conflict"
    failed = InboundOrder.objects.get(status="failed")
    assert failed.errors[0]["code"] == "idempotency_conflict"
    assert failed.payload == changed


def test_unknown_sku_keeps_400_shape_and_is_replayed_after_the_product_exists(channel_api, staff_api, warehouse):
    payload = factories.order_payload(lines=[{"sku": "NEW-SKU", "quantity": 1, "unit_price": "5.00"}])
    response = channel_api.post("/api/v1/orders/", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": [{"code": "unknown_sku", "detail": "No product with SKU 'NEW-SKU'.", "attr": "lines.0.sku"}],
    }
    inbound = InboundOrder.objects.get()
    assert inbound.status == "failed"
    assert "NEW-SKU" in inbound.error
    assert inbound.order_id is None

    listed = staff_api.get("/api/v1/inbound-orders/?status=failed").json()["results"]
    assert [row["id"] for row in listed] == [inbound.pk]
    assert listed[0]["error"] == "lines.0.sku: No product with SKU 'NEW-SKU'."

    factories.ProductFactory(sku="NEW-SKU")
    replayed = staff_api.post(f"/api/v1/inbound-orders/{inbound.pk}/replay/", {}, format="json")
    assert replayed.status_code == 200, replayed.json()
    body = replayed.json()
    assert body["status"] == "imported"
    assert body["error"] == ""
    order = Order.objects.get(pk=body["order"])
    assert body["order_number"] == order.number
    assert order.external_id == "WEB-10023"
    assert order.events.first().actor == "user:manager"


def test_replay_with_a_corrected_payload(channel_api, tee):
    bad = factories.order_payload(lines=[{"sku": "TEE-RED-MM", "quantity": 1}])
    assert channel_api.post("/api/v1/orders/", bad, format="json").status_code == 400
    inbound = InboundOrder.objects.get()
    fixed = factories.order_payload(lines=[{"sku": "TEE-RED-M", "quantity": 1}])
    response = channel_api.post(f"/api/v1/inbound-orders/{inbound.pk}/replay/", {"payload": fixed}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "imported"
    assert response.json()["payload"] == fixed
    assert Order.objects.get().lines.get().sku == "TEE-RED-M"


def test_replay_that_still_fails_answers_200_with_the_failed_state(staff_api, channel, warehouse):
    inbound = InboundOrder.objects.create(
        channel=channel, way_in="api", format="api", payload={"external_id": "X"}, digest="x"
    )
    response = staff_api.post(f"/api/v1/inbound-orders/{inbound.pk}/replay/", {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed"
    assert body["attempts"] == 1
    assert {e["attr"] for e in body["errors"]} >= {"customer", "shipping_address", "lines"}


def test_payload_survives_a_crash_while_placing(channel_api, tee, monkeypatch):
    from orders import services

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "place_order", boom)
    with pytest.raises(RuntimeError):
        channel_api.post("/api/v1/orders/", factories.order_payload(), format="json")
    inbound = InboundOrder.objects.get()
    assert inbound.status == "failed"
    assert "database went away" in inbound.error
    monkeypatch.undo()
    assert channel_api.post(f"/api/v1/inbound-orders/{inbound.pk}/replay/").json()["status"] == "imported"


@pytest.mark.parametrize("body", ["{not json", "null"])
def test_unparsable_body_is_kept_with_its_text(channel_api, tee, body):
    response = channel_api.post("/api/v1/orders/", body, content_type="application/json")
    assert response.status_code == 400
    inbound = InboundOrder.objects.get()
    assert inbound.status == "failed"
    assert inbound.payload == {"unparsed_body": body}
    assert inbound.error


def test_staff_order_for_a_channel_is_staged_under_that_channel(staff_api, channel, tee):
    response = staff_api.post("/api/v1/orders/", factories.order_payload(channel="webstore"), format="json")
    assert response.status_code == 201
    inbound = InboundOrder.objects.get()
    assert (inbound.channel, inbound.status, inbound.source) == (channel, "imported", "user:manager")


def test_channel_key_sees_only_its_own_inbound_orders(channel_api, channel):
    other = factories.ChannelFactory(code="market")
    mine = InboundOrder.objects.create(channel=channel, way_in="api", format="api", payload={}, digest="a")
    theirs = InboundOrder.objects.create(channel=other, way_in="api", format="api", payload={}, digest="b")
    assert [r["id"] for r in channel_api.get("/api/v1/inbound-orders/").json()["results"]] == [mine.pk]
    assert channel_api.get("/api/v1/inbound-orders/?channel=market").json()["results"] == []
    assert channel_api.get(f"/api/v1/inbound-orders/{theirs.pk}/").status_code == 404
    assert channel_api.post(f"/api/v1/inbound-orders/{theirs.pk}/replay/").status_code == 404


def test_staff_filters_by_channel_and_status(staff_api, channel):
    other = factories.ChannelFactory(code="market")
    InboundOrder.objects.create(channel=channel, way_in="api", format="api", payload={}, digest="a", status="failed")
    keep = InboundOrder.objects.create(
        channel=other, way_in="file", format="csv", payload={}, digest="b", status="failed"
    )
    InboundOrder.objects.create(channel=other, way_in="file", format="csv", payload={}, digest="c", status="imported")
    rows = staff_api.get("/api/v1/inbound-orders/?channel=market&status=failed").json()["results"]
    assert [r["id"] for r in rows] == [keep.pk]
    assert rows[0]["channel"] == "market"


def test_staff_without_permission_is_refused(api, channel):

    clerk = factories.UserFactory(username="clerk", is_staff=True)
    api.credentials(HTTP_AUTHORIZATION=f"Token {factories.staff_token(clerk)}")
    assert api.get("/api/v1/inbound-orders/").status_code == 403


def test_no_key_is_401(api):
    assert api.get("/api/v1/inbound-orders/").status_code == 401


@pytest.mark.parametrize("rows", [1, 20])
def test_list_costs_the_same_queries_whatever_its_size(staff_api, channel, rows, django_assert_num_queries):
    InboundOrder.objects.bulk_create(
        InboundOrder(channel=channel, way_in="api", format="api", payload={"n": i}, digest=str(i)) for i in range(rows)
    )
    with django_assert_num_queries(2):  # the token with its user, then one page with its channels
        response = staff_api.get("/api/v1/inbound-orders/")
    assert len(response.json()["results"]) == rows


def test_a_nul_character_in_the_order_is_a_400_and_nothing_is_staged(channel_api, tee):
    payload = factories.order_payload()
    payload["notes"] = "gift\u0000wrap"  # PostgreSQL's jsonb cannot hold it: refused before staging
    response = channel_api.post("/api/v1/orders/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "null_characters_not_allowed"
    assert not InboundOrder.objects.exists()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"external_id": "A-1", "ship_to": {"na\\u0000me": "x"}}', "application/json"),  # in a key
        ("external_id=A-1&notes=gift%00wrap", "application/x-www-form-urlencoded"),
        (b"external_id=A-1&notes=gift\x00wrap", "application/x-www-form-urlencoded"),
    ],
)
def test_a_nul_character_in_any_form_of_body_is_a_400_and_nothing_is_staged(channel_api, tee, body, content_type):
    response = channel_api.generic("POST", "/api/v1/orders/", body, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "null_characters_not_allowed"
    assert not InboundOrder.objects.exists()
    assert not Order.objects.exists()


def test_an_escaped_backslash_before_u0000_is_refused_too(channel_api, tee):
    payload = factories.order_payload()
    payload["notes"] = "C:\\u0000"  # a backslash, then the text u0000: refused too (documented in config.middleware)
    response = channel_api.post("/api/v1/orders/", payload, format="json")
    assert response.status_code == 400
