"""The back office (/admin/): every page renders, the order page tells the whole story, no N+1.

The page tests walk ``admin.site._registry``, so a model someone registers later
is covered without editing this file.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels_app.models import ChannelKey, key_digest
from inventory.models import Location, Product, StockItem, StockMovement
from orders import fulfilment, services
from orders.models import Customer, Order, OrderEvent, OrderLine, Shipment
from tests import factories

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
# Rows of these exist in the ``business`` fixture; their change pages must be tested, never passed by.
CORE_MODELS = {Product, Location, StockItem, StockMovement, Customer, Order, OrderLine, Shipment, OrderEvent}


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def boss(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-123")
    client.force_login(user)
    return client


@pytest.fixture
def business(channel, warehouse):
    """One of everything: a received order, a shipped and delivered one, a cancelled one, a backorder."""
    tee = factories.ProductFactory(sku="TEE-RED-M", name="Tee red M")
    mug = factories.ProductFactory(sku="MUG-1", name="Mug")
    factories.stock(tee, warehouse, 10, bin="A-01-1")
    factories.stock(mug, warehouse, 1, bin="B-02-1")
    received = factories.place(channel, "EXT-RECEIVED", [("TEE-RED-M", 2)])
    delivered = factories.place(channel, "EXT-DELIVERED", [("TEE-RED-M", 1), ("MUG-1", 1)])
    shipment = delivered.shipments.get()
    fulfilment.shipment_ship(shipment=shipment, carrier="ups", tracking_number="1Z999", actor="test")
    fulfilment.shipment_deliver(shipment=shipment, actor="test")
    cancelled = factories.place(channel, "EXT-CANCELLED", [("TEE-RED-M", 1)])
    services.cancel_order(order=cancelled, reason="test", actor="test")
    backordered = factories.place(channel, "EXT-BACKORDER", [("MUG-1", 3)])
    return {
        "received": received,
        "delivered": delivered,
        "shipment": shipment,
        "cancelled": cancelled,
        "backordered": backordered,
    }


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Every registered model ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_renders(boss, business, model):
    response = boss.get(url(model, "changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_change_and_add_pages_render(boss, business, model):
    model_admin = admin.site._registry[model]
    obj = model._default_manager.order_by("-pk").first()
    if model in CORE_MODELS:
        assert obj is not None, f"the business fixture should hold a {model._meta.label}"
    if obj is not None:
        assert boss.get(url(model, "change", obj.pk)).status_code == 200
    request = boss.get(url(model, "changelist")).wsgi_request
    if model_admin.has_add_permission(request):  # some add pages hand over to a custom form
        assert boss.get(url(model, "add"), follow=True).status_code == 200
    else:
        assert boss.get(url(model, "add")).status_code == 403


def test_ledger_and_event_log_are_read_only(boss, business):
    request = boss.get("/admin/").wsgi_request
    for model in (StockMovement, OrderEvent, Shipment, OrderLine):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    assert not admin.site._registry[Order].has_add_permission(request)


# --- Orders -------------------------------------------------------------------------------------------------------


def test_order_page_shows_lines_shipments_and_timeline(boss, business):
    order, shipment = business["delivered"], business["shipment"]
    html = boss.get(url(Order, "change", order.pk)).content.decode()
    for sku in ("TEE-RED-M", "MUG-1"):
        assert sku in html
    assert shipment.number in html
    assert "1Z999" in html
    assert "TEE-RED-M ×1" in html  # the shipment's own lines
    timeline = re.findall(r'<td class="field-type">\s*<p>([^<]+)</p>', html)
    assert timeline == list(order.events.order_by("at", "id").values_list("type", flat=True))
    assert {"placed", "received", "shipment.shipped", "shipment.delivered", "delivered"} <= set(timeline)


def test_order_status_is_not_a_form_field(boss, business):
    order = business["received"]
    html = boss.get(url(Order, "change", order.pk)).content.decode()
    assert 'name="status"' not in html
    assert 'name="payment_status"' not in html
    response = boss.post(
        url(Order, "change", order.pk),
        {
            "status": "cancelled",
            "ship_name": "Ana",
            "ship_line1": "2 Side St",
            "ship_line2": "",
            "ship_city": "Springfield",
            "ship_region": "IL",  # the factories' address (a US address needs its state)
            "ship_postal_code": "62701",
            "ship_country": "US",
            "shipping_method": "express",
            "notes": "leave at door",
            **hidden_inputs(boss, url(Order, "change", order.pk)),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    assert (order.ship_line1, order.notes) == ("2 Side St", "leave at door")
    edit = order.events.get(type="order_edited")
    assert edit.actor == "user:boss"
    assert edit.data["changed"] == {"ship_line1": "2 Side St", "shipping_method": "express", "notes": "leave at door"}


def hidden_inputs(client, path: str) -> dict:
    """The hidden inputs of a form page (inline management forms, row ids), as a browser would post them."""
    parser = _HiddenInputs()
    parser.feed(client.get(path).content.decode())
    return parser.values


class _HiddenInputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value") or ""


def test_search_by_order_number(boss, business):
    wanted, other = business["received"], business["cancelled"]
    html = boss.get(url(Order, "changelist"), {"q": wanted.number}).content.decode()
    assert f">{wanted.number}<" in html
    assert f">{other.number}<" not in html
    lower = boss.get(url(Order, "changelist"), {"q": wanted.number.lower()}).content.decode()
    assert f">{wanted.number}<" in lower


def test_search_by_external_id_email_and_sku(boss, business):
    changelist = url(Order, "changelist")
    html = boss.get(changelist, {"q": "EXT-BACKORDER"}).content.decode()
    assert f">{business['backordered'].number}<" in html
    assert f">{business['received'].number}<" not in html
    by_email = boss.get(changelist, {"q": "ana@example.com"}).content.decode()
    assert all(f">{o.number}<" in by_email for o in business.values() if isinstance(o, Order))
    by_sku = boss.get(changelist, {"q": "MUG-1"}).content.decode()
    assert f">{business['delivered'].number}<" in by_sku
    assert f">{business['backordered'].number}<" in by_sku
    assert f">{business['received'].number}<" not in by_sku


def test_shipment_and_event_search_by_numbers(boss, business):
    shipment = business["shipment"]
    html = boss.get(url(Shipment, "changelist"), {"q": shipment.number}).content.decode()
    assert f">{shipment.number}<" in html
    html = boss.get(url(Shipment, "changelist"), {"q": business["received"].number}).content.decode()
    assert f">{shipment.number}<" not in html
    cancelled = business["cancelled"]
    response = boss.get(url(OrderEvent, "changelist"), {"q": cancelled.number})
    found = list(response.context["cl"].result_list)
    assert found
    assert {event.order_id for event in found} == {cancelled.pk}
    assert "cancelled" in {event.type for event in found}


def test_partially_shipped_column_and_filter(boss, channel, warehouse):
    tee = factories.ProductFactory(sku="TEE-RED-M")
    factories.stock(tee, warehouse, 1)
    order = factories.place(channel, "EXT-PARTIAL", [("TEE-RED-M", 3)])
    fulfilment.shipment_ship(shipment=order.shipments.get(), carrier="ups", tracking_number="1Z1", actor="test")
    whole = factories.place(channel, "EXT-WHOLE", [("TEE-RED-M", 1)])  # all backordered, nothing shipped
    response = boss.get(url(Order, "changelist"), {"partial": "yes"})
    html = response.content.decode()
    assert f">{order.number}<" in html
    assert f">{whole.number}<" not in html
    assert list(response.context["cl"].result_list) == [order]
    assert response.context["cl"].result_list[0].any_waiting


def test_cancel_action_cancels_and_reports_refusals(boss, business):
    received, delivered = business["received"], business["delivered"]
    tee = StockItem.objects.get(product__sku="TEE-RED-M")
    reserved_before = tee.reserved
    response = boss.post(
        url(Order, "changelist"),
        {"action": "cancel_orders", "_selected_action": [received.pk, delivered.pk]},
        follow=True,
    )
    assert response.status_code == 200
    received.refresh_from_db()
    delivered.refresh_from_db()
    assert received.status == Order.Status.CANCELLED
    assert delivered.status == Order.Status.DELIVERED
    tee.refresh_from_db()
    assert tee.reserved == reserved_before - 2
    texts = messages_of(response)
    assert f"Cancelled 1 order(s): {received.number}." in texts
    assert any(t.startswith(f"{delivered.number} not cancelled:") and "shipped" in t for t in texts)
    assert received.events.filter(type="cancelled", actor="user:boss").exists()


# --- Stock --------------------------------------------------------------------------------------------------------


def test_stock_adjustment_goes_through_the_ledger(boss, business):
    item = StockItem.objects.get(product__sku="TEE-RED-M")
    before = item.on_hand
    data = {"bin": "A-09-9", "reorder_point": 3, "reorder_quantity": 12, "adjust_by": -1, "adjust_reason": "damaged"}
    data.update(hidden_inputs(boss, url(StockItem, "change", item.pk)))
    response = boss.post(url(StockItem, "change", item.pk), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    item.refresh_from_db()
    assert (item.on_hand, item.bin, item.reorder_point) == (before - 1, "A-09-9", 3)
    movement = item.movements.order_by("-id").first()
    assert (movement.kind, movement.quantity, movement.reason, movement.actor) == (
        "adjustment",
        -1,
        "damaged",
        "user:boss",
    )


def test_stock_adjustment_below_reserved_is_refused_with_a_message(boss, business):
    item = StockItem.objects.get(product__sku="MUG-1")  # 1 on hand, reserved by the backorder's sibling
    item.refresh_from_db()
    data = {"bin": item.bin, "reorder_point": 0, "reorder_quantity": 0, "adjust_by": -item.on_hand - 5}
    data.update({"adjust_reason": "count", **hidden_inputs(boss, url(StockItem, "change", item.pk))})
    response = boss.post(url(StockItem, "change", item.pk), data, follow=True)
    on_hand = item.on_hand
    item.refresh_from_db()
    assert item.on_hand == on_hand
    assert any(t.startswith("Stock not adjusted:") for t in messages_of(response))


def test_stock_changelist_shows_available(boss, business):
    response = boss.get(url(StockItem, "changelist"))
    rows = {row.product.sku: row for row in response.context["cl"].result_list}
    tee = rows["TEE-RED-M"]
    assert tee.available_units == tee.on_hand - tee.reserved == 10 - 2 - 1 - 0  # received 2, shipped 1 (left)
    assert '<td class="field-available">' in response.content.decode()


# --- Channel keys -------------------------------------------------------------------------------------------------


def test_adding_a_key_issues_it_once_and_never_shows_the_digest(boss, channel):
    response = boss.post(url(ChannelKey, "add"), {"channel": channel.pk, "name": "erp"}, follow=True)
    assert response.status_code == 200
    shown = [t for t in messages_of(response) if "copy it now" in t]
    assert len(shown) == 1
    raw = re.search(r"(ck_\S+):? ", shown[0].split("): ", 1)[1] + " ").group(1)
    key = ChannelKey.objects.get(channel=channel, name="erp")
    assert key.digest == key_digest(raw)
    page = boss.get(url(ChannelKey, "change", key.pk)).content.decode()
    assert key.digest not in page
    assert raw not in page


def test_revoke_action(boss, channel):
    key = channel.keys.get()
    response = boss.post(url(ChannelKey, "changelist"), {"action": "revoke", "_selected_action": [key.pk]}, follow=True)
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "Revoked 1 key(s)." in messages_of(response)


def test_issue_key_action_on_channels(boss, channel):
    response = boss.post(
        reverse("admin:channels_app_saleschannel_changelist"),
        {"action": "issue_key", "_selected_action": [channel.pk]},
        follow=True,
    )
    assert channel.keys.count() == 2
    (text,) = [t for t in messages_of(response) if "copy it now" in t]
    raw = re.search(r"ck_[A-Za-z0-9_-]+", text).group(0)
    assert channel.keys.filter(digest=key_digest(raw)).exists()


def test_location_page_shows_the_channels_it_serves(boss, channel, warehouse):
    html = boss.get(url(Location, "change", warehouse.pk)).content.decode()
    assert reverse("admin:channels_app_saleschannel_change", args=[channel.pk]) in html
    listing = boss.get(url(Location, "changelist")).content.decode()
    assert f">{channel.code}</a>" in listing


# --- Query counts: a changelist costs the same for 1 row and for 20 ------------------------------------------------


def _orders(channel, warehouse, n: int, start: int):
    for i in range(start, start + n):
        product = factories.ProductFactory(sku=f"QC-{i:03d}")
        factories.stock(product, warehouse, 5, bin=f"Q-{i:03d}")
        order = factories.place(channel, f"QC-{i}", [(product.sku, 2)], email=f"c{i}@example.com")
        if i % 2:
            fulfilment.shipment_ship(
                shipment=order.shipments.get(), carrier="ups", tracking_number=f"1Z{i}", actor="test"
            )


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


# Location rows do not grow with orders: tests/test_query_budgets_admin.py pins its changelist.
@pytest.mark.parametrize("model", [Order, Shipment, StockItem, StockMovement, OrderEvent, Customer, Product, OrderLine])
def test_changelist_queries_do_not_grow_with_rows(boss, channel, warehouse, model):
    _orders(channel, warehouse, 1, start=0)
    path = url(model, "changelist")
    assert model._default_manager.count() >= 1
    one = _count(boss, path)
    _orders(channel, warehouse, 19, start=1)
    rows = model._default_manager.count()
    assert rows >= 20
    assert _count(boss, path) == one, f"{model._meta.label}: {one} queries for 1 row, more for {rows}"


def test_big_changelists_skip_the_full_count():
    for model in (Order, OrderEvent, StockMovement, Shipment):
        assert admin.site._registry[model].show_full_result_count is False
