import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from inventory.models import StockItem
from returns import services
from returns.models import Return
from returns.services import ReturnLineInput as L
from tests import factories

from .conftest import ship_order

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/returns/return/"
DESK = "/admin/returns/return/desk/"


@pytest.fixture
def admin_client_(client, manager):
    client.force_login(manager)
    return client


def _request(order, *lines):
    return services.return_request(order=order, lines=[L(*line) for line in lines], actor="t")


@pytest.mark.parametrize("n", [1, 20])
def test_changelist_costs_a_constant_number_of_queries(admin_client_, channel, tee, mug, n, django_assert_num_queries):
    factories.stock(tee, tee.stock_items.get().location, 20)
    factories.stock(mug, mug.stock_items.get().location, 20)
    for i in range(n):
        order = ship_order(factories.place(channel, f"Q-{i}", lines=[("TEE-RED-M", 1), ("MUG-1", 1)]))
        _request(order, ("TEE-RED-M", 1, "damaged"), ("MUG-1", 1, "other"))
    admin_client_.get(CHANGELIST)  # warm the session and content types
    # session, user, channel filter choices, count, page, lines, replacement lines, date hierarchy (2)
    with django_assert_num_queries(9):
        response = admin_client_.get(CHANGELIST)
    assert response.status_code == 200
    assert response.content.decode().count("RMA-0") >= n


def test_change_page_shows_lines_and_receipts(admin_client_, delivered_order):
    rma = _request(delivered_order, ("TEE-RED-M", 2, "damaged"))
    services.return_approve(rma=rma, actor="t")
    services.return_receive(
        rma=rma,
        lines=[
            services.ReceiveLineInput("TEE-RED-M", 1, "restock"),
            services.ReceiveLineInput("TEE-RED-M", 1, "scrap", "cracked"),
        ],
        actor="t",
    )
    page = admin_client_.get(f"{CHANGELIST}{rma.pk}/change/").content.decode()
    assert "1 × restock at MAIN" in page
    assert "1 × scrap (write-off 8.00) — cracked" in page


def test_approve_and_close_actions_call_the_services(admin_client_, delivered_order):
    rma = _request(delivered_order, ("TEE-RED-M", 1, "damaged"))
    response = admin_client_.post(CHANGELIST, {"action": "approve_selected", "_selected_action": [rma.pk]}, follow=True)
    assert f"Approved: {rma.number}." in response.content.decode()
    rma.refresh_from_db()
    assert rma.status == "approved"
    # closing an approved (not received) return is an illegal move: shown, nothing changes
    response = admin_client_.post(CHANGELIST, {"action": "close_selected", "_selected_action": [rma.pk]}, follow=True)
    assert "cannot go from approved to closed" in response.content.decode()
    rma.refresh_from_db()
    assert rma.status == "approved"


def test_reject_action_asks_for_a_reason_then_rejects(admin_client_, delivered_order):
    rma = _request(delivered_order, ("TEE-RED-M", 1, "damaged"))
    page = admin_client_.post(CHANGELIST, {"action": "reject_selected", "_selected_action": [rma.pk]})
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    rma.refresh_from_db()
    assert rma.status == "requested"
    admin_client_.post(
        CHANGELIST,
        {"action": "reject_selected", "_selected_action": [rma.pk], "confirm": "yes", "reason": "outside policy"},
    )
    rma.refresh_from_db()
    assert (rma.status, rma.rejection_reason) == ("rejected", "outside policy")


def test_add_opens_the_request_form_which_calls_the_service(admin_client_, delivered_order):
    assert admin_client_.get(f"{CHANGELIST}add/").url == reverse("admin:returns_return_request")
    form = {
        "order": delivered_order.number,
        "resolution": "store_credit",
        "note": "phoned in",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-sku": "TEE-RED-M",
        "lines-0-quantity": "3",
        "lines-0-reason": "damaged",
        "lines-1-sku": "",
        "lines-1-quantity": "1",
        "lines-1-reason": "",
        "replacements-TOTAL_FORMS": "0",
        "replacements-INITIAL_FORMS": "0",
        "replacements-MIN_NUM_FORMS": "0",
        "replacements-MAX_NUM_FORMS": "1000",
    }
    url = reverse("admin:returns_return_request")
    refused = admin_client_.post(url, form)
    assert refused.status_code == 200
    assert "3 asked, 2 returnable" in refused.content.decode()
    assert not Return.objects.exists()
    form["lines-0-quantity"] = "2"
    created = admin_client_.post(url, form)
    rma = Return.objects.get()
    assert created.url == reverse("admin:returns_return_change", args=[rma.pk])
    assert (rma.resolution, rma.note, rma.lines.get().quantity) == ("store_credit", "phoned in", 2)


def test_desk_loads_an_approved_rma_and_refuses_others(admin_client_, delivered_order):
    rma = _request(delivered_order, ("TEE-RED-M", 2, "damaged"))
    page = admin_client_.get(DESK, {"rma": rma.number}).content.decode()
    assert "only approved returns are received" in page
    services.return_approve(rma=rma, actor="t")
    page = admin_client_.get(DESK, {"rma": rma.number.lower()}).content.decode()
    assert 'id="rma-title"' in page
    assert '"barcode": "400100"' in page
    assert "No return RMA-999999" in admin_client_.get(DESK, {"rma": "RMA-999999"}).content.decode()


def test_desk_receives_scanned_units_with_dispositions(admin_client_, delivered_order, tee, warehouse):
    rma = _request(delivered_order, ("TEE-RED-M", 2, "damaged"))
    services.return_approve(rma=rma, actor="t")
    before = StockItem.objects.get(product=tee, location=warehouse).on_hand
    units = [
        {"sku": "TEE-RED-M", "disposition": "restock", "condition": "as new"},
        {"sku": "TEE-RED-M", "disposition": "scrap", "condition": "stained"},
    ]
    response = admin_client_.post(DESK, {"rma": rma.number, "units": json.dumps(units), "location": ""}, follow=True)
    assert f"{rma.number} received: 1 restocked, 1 scrapped" in response.content.decode()
    rma.refresh_from_db()
    assert rma.status == "received"
    assert StockItem.objects.get(product=tee, location=warehouse).on_hand == before + 1
    assert sorted(rma.lines.get().receipts.values_list("condition", flat=True)) == ["as new", "stained"]


def test_desk_shows_refusals_and_changes_nothing(admin_client_, delivered_order):
    rma = _request(delivered_order, ("TEE-RED-M", 1, "damaged"))
    services.return_approve(rma=rma, actor="t")
    units = [{"sku": "TEE-RED-M", "disposition": "restock"}] * 2
    response = admin_client_.post(DESK, {"rma": rma.number, "units": json.dumps(units)}, follow=True)
    assert "not received" in response.content.decode()
    rma.refresh_from_db()
    assert rma.status == "approved"


def test_desk_needs_the_returns_permission(client, delivered_order):
    clerk = factories.UserFactory(username="viewer", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(codename="view_return"))
    client.force_login(clerk)
    assert client.get(DESK).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="change_return"))
    client.force_login(clerk)
    assert client.get(DESK).status_code == 200


def test_staff_edit_the_note_and_nothing_else(admin_client_, delivered_order):
    rma = _request(delivered_order, ("TEE-RED-M", 1, "damaged"))
    response = admin_client_.post(
        f"{CHANGELIST}{rma.pk}/change/",
        {
            "note": "customer phoned",
            "status": "closed",
            "refund_amount": "999.00",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "1",
            "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-id": str(rma.lines.get().pk),
            "lines-0-return_request": str(rma.pk),
            "replacement_lines-TOTAL_FORMS": "0",
            "replacement_lines-INITIAL_FORMS": "0",
            "replacement_lines-MIN_NUM_FORMS": "0",
            "replacement_lines-MAX_NUM_FORMS": "1000",
            "refunds-TOTAL_FORMS": "0",
            "refunds-INITIAL_FORMS": "0",
            "refunds-MIN_NUM_FORMS": "0",
            "refunds-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    rma.refresh_from_db()
    assert (rma.note, rma.status, rma.refund_amount) == ("customer phoned", "requested", None)
