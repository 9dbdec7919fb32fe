import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from returns import services
from returns.models import Return
from returns.services import ReturnLineInput as L
from tests import factories

from ..conftest import ship_order

pytestmark = pytest.mark.django_db


def _body(order_id, sku="TEE-RED-M", quantity=1, reason="wrong_item", **kw):
    return {"order": order_id, "lines": [{"sku": sku, "quantity": quantity, "reason": reason}], **kw}


def _codes(response):
    return [(e["code"], e["attr"]) for e in response.json()["errors"]]


def _staff_client(*perms):
    user = factories.UserFactory(username=f"clerk{len(perms)}", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="returns", codename__in=perms))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {factories.staff_token(user)}")
    return client


def test_channel_requests_a_return_for_its_own_order(channel_api, delivered_order):
    response = channel_api.post("/api/v1/returns/", _body(delivered_order.pk, note="too small"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == f"RMA-{body['id']:06d}"
    assert (body["order"], body["status"], body["resolution"], body["note"]) == (
        delivered_order.pk,
        "requested",
        "refund",
        "too small",
    )
    assert body["refund_amount"] == "19.90"
    assert body["lines"][0]["sku"] == "TEE-RED-M"
    assert body["lines"][0]["reason"] == "wrong_item"
    assert channel_api.get(f"/api/v1/returns/{body['id']}/").json()["number"] == body["number"]


def test_another_channels_order_and_returns_are_404(api, delivered_order):
    _, key = factories.channel_with_key("otherchan")
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.post("/api/v1/returns/", _body(delivered_order.pk), format="json")
    assert response.status_code == 404
    assert _codes(response) == [("not_found", "order")]
    rma = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    assert api.get(f"/api/v1/returns/{rma.pk}/").status_code == 404
    assert api.get("/api/v1/returns/").json()["results"] == []
    assert not Return.objects.exclude(pk=rma.pk).exists()


def test_channel_key_cannot_work_returns(channel_api, delivered_order):
    rma = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    for path in ("approve", "reject", "receive", "close"):
        assert channel_api.post(f"/api/v1/returns/{rma.pk}/{path}/", {}, format="json").status_code == 403


def test_staff_without_the_returns_permission_cannot_approve(delivered_order):
    rma = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    viewer = _staff_client("view_return")
    assert viewer.get(f"/api/v1/returns/{rma.pk}/").status_code == 200
    assert viewer.post(f"/api/v1/returns/{rma.pk}/approve/").status_code == 403
    clerk = _staff_client("view_return", "change_return")
    assert clerk.post(f"/api/v1/returns/{rma.pk}/approve/").json()["status"] == "approved"


def test_staff_requests_for_any_order(staff_api, delivered_order):
    response = staff_api.post(
        "/api/v1/returns/", _body(delivered_order.pk, resolution="store_credit", reason="damaged"), format="json"
    )
    assert response.status_code == 201
    assert response.json()["resolution"] == "store_credit"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"quantity": 3}, [("quantity_exceeds_returnable", "lines.0.quantity")]),
        ({"reason": "bored"}, [("invalid_choice", "lines.0.reason")]),
        ({"sku": "NOPE"}, [("unknown_sku", "lines.0.sku")]),
        ({"resolution": "cash"}, [("invalid_choice", "resolution")]),
        ({"quantity": 0}, [("min_value", "lines.0.quantity")]),
    ],
)
def test_refusals_are_400_with_a_code(channel_api, delivered_order, body, expected):
    response = channel_api.post("/api/v1/returns/", _body(delivered_order.pk, **body), format="json")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert _codes(response) == expected


def test_nothing_shipped_and_window_closed_are_400(channel_api, channel, tee):
    pending = factories.place(channel, "WEB-20", lines=[("TEE-RED-M", 1)])
    response = channel_api.post("/api/v1/returns/", _body(pending.pk), format="json")
    assert (response.status_code, _codes(response)) == (400, [("nothing_shipped", "order")])
    old = ship_order(factories.place(channel, "WEB-21", lines=[("TEE-RED-M", 1)]), delivered_days_ago=45)
    response = channel_api.post("/api/v1/returns/", _body(old.pk), format="json")
    assert (response.status_code, _codes(response)) == (400, [("return_window_closed", "lines.0.sku")])


def test_illegal_move_is_409_invalid_transition(staff_api, delivered_order):
    rma = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    response = staff_api.post(f"/api/v1/returns/{rma.pk}/close/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "invalid_transition"


def test_reject_records_the_reason(staff_api, delivered_order):
    rma = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    body = staff_api.post(f"/api/v1/returns/{rma.pk}/reject/", {"reason": "outside policy"}, format="json").json()
    assert (body["status"], body["rejection_reason"], body["refund_amount"]) == ("rejected", "outside policy", "0.00")
    events = staff_api.get(f"/api/v1/orders/{delivered_order.pk}/events/").json()
    assert events[-1]["type"] == "return.rejected"
    assert events[-1]["actor"] == "user:manager"
    assert events[-1]["data"] == {"return": rma.number, "reason": "outside policy"}


def test_filters_status_and_order(staff_api, channel, delivered_order, tee):
    other = ship_order(factories.place(channel, "WEB-30", lines=[("TEE-RED-M", 1)]))
    a = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    b = services.return_request(order=other, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    services.return_approve(rma=b, actor="t")

    def ids(query):
        return [r["id"] for r in staff_api.get(f"/api/v1/returns/?{query}").json()["results"]]

    assert ids("") == [b.pk, a.pk]
    assert ids("status=approved") == [b.pk]
    assert ids("status=approved&status=requested") == [b.pk, a.pk]
    assert ids(f"order={delivered_order.pk}") == [a.pk]


def _many_returns(channel, n):
    for i in range(n):
        order = ship_order(factories.place(channel, f"Q-{i}", lines=[("TEE-RED-M", 1), ("MUG-1", 1)]))
        services.return_request(
            order=order,
            lines=[L("TEE-RED-M", 1, "damaged"), L("MUG-1", 1, "other")],
            actor="t",
        )


@pytest.mark.parametrize("n", [1, 20])
def test_list_costs_a_constant_number_of_queries(channel_api, channel, tee, mug, n, django_assert_num_queries):
    factories.stock(tee.stock_items.get().product, tee.stock_items.get().location, 20)
    factories.stock(mug, mug.stock_items.get().location, 20)
    _many_returns(channel, n)
    channel_api.get("/api/v1/returns/")  # the key's once-a-minute last_used_at write happens here
    # key lookup, returns page, lines, receipts, replacement lines, refunds
    with django_assert_num_queries(6):
        response = channel_api.get("/api/v1/returns/?page_size=50")
    assert len(response.json()["results"]) == n


def test_detail_costs_a_constant_number_of_queries(channel_api, delivered_order, django_assert_num_queries):
    rma = services.return_request(
        order=delivered_order, lines=[L("TEE-RED-M", 2, "damaged"), L("MUG-1", 1, "other")], actor="t"
    )
    channel_api.get("/api/v1/returns/")  # the key's once-a-minute last_used_at write happens here
    with django_assert_num_queries(6):
        assert channel_api.get(f"/api/v1/returns/{rma.pk}/").status_code == 200


def test_the_returns_group_works_returns(delivered_order):
    from orders.roles import ensure_roles

    clerk = factories.UserFactory(username="rita", is_staff=True)
    clerk.groups.add(ensure_roles()["returns"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {factories.staff_token(clerk)}")
    created = client.post(
        "/api/v1/returns/",
        {"order": delivered_order.pk, "lines": [{"sku": "MUG-1", "quantity": 1, "reason": "damaged"}]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert client.post(f"/api/v1/returns/{created.json()['id']}/approve/").json()["status"] == "approved"
