"""Manual (phone) orders keyed in the back office (orders.admin_manual), through place_order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from channels_app.models import PriceList, PriceListItem, SalesChannel
from inventory.models import StockItem
from orders.models import Order
from tests import factories
from tests.test_admin_pages import hidden_inputs

pytestmark = pytest.mark.django_db

MANUAL = "/admin/orders/order/manual/"


@pytest.fixture
def phone(warehouse):
    channel = factories.ChannelFactory(code="phone", kind=SalesChannel.Kind.PHONE)
    channel.locations.add(warehouse)
    return channel


@pytest.fixture
def catalogue(warehouse):
    tee = factories.ProductFactory(sku="TEE-RED-M", name="Tee red M", price=Decimal("19.90"))
    mug = factories.ProductFactory(sku="MUG-1", name="Mug", price=Decimal("8.00"))
    factories.stock(tee, warehouse, 10)
    factories.stock(mug, warehouse, 1)
    return {"tee": tee, "mug": mug}


@pytest.fixture
def boss(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def form_data(client, lines, **overrides) -> dict:
    data = {
        **hidden_inputs(client, MANUAL),
        "channel": SalesChannel.objects.get(code="phone").pk,
        "email": "caller@example.com",
        "customer_name": "Cal Ler",
        "phone": "+1 555 0199",
        "kind": "consumer",
        "ship_name": "Cal Ler",
        "line1": "5 Oak Ave",
        "line2": "",
        "city": "Austin",
        "region": "TX",
        "postal_code": "78701",
        "country": "US",
        "shipping_method": "standard",
        "payment_status": "paid",
        "promised_delivery_date": "",
        "notes": "phoned in",
    }
    for i in range(int(data["lines-TOTAL_FORMS"])):  # what a browser posts for rows left as drawn
        data.update({f"lines-{i}-product": "", f"lines-{i}-quantity": "1", f"lines-{i}-unit_price": ""})
    for i, (product, quantity, price) in enumerate(lines):
        data.update({f"lines-{i}-product": product.pk, f"lines-{i}-quantity": quantity, f"lines-{i}-unit_price": price})
    data.update(overrides)
    return data


def test_form_renders_with_the_sku_autocomplete_and_the_phone_channel(boss, phone):
    response = boss.get(MANUAL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="admin-autocomplete' in html
    assert 'data-model-name="orderline"' in html
    assert 'data-field-name="product"' in html
    assert "admin/js/autocomplete.js" in html
    assert response.context["form"].initial["channel"] == phone
    assert response.context["form"].initial["external_id"].startswith("MAN-")
    assert MANUAL in boss.get(reverse("admin:orders_order_changelist")).content.decode()  # the "Key in" button


def test_sku_autocomplete_answers(boss, catalogue):
    response = boss.get(
        "/admin/autocomplete/",
        {"app_label": "orders", "model_name": "orderline", "field_name": "product", "term": "TEE"},
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [str(catalogue["tee"].pk)]
    assert "TEE-RED-M" in results[0]["text"]


def test_phone_order_is_placed_through_place_order(boss, phone, catalogue):
    tee = StockItem.objects.get(product=catalogue["tee"])
    data = form_data(boss, [(catalogue["tee"], 2, ""), (catalogue["mug"], 3, "7.50")])
    response = boss.post(MANUAL, data, follow=True)
    order = Order.objects.get()
    assert response.redirect_chain[-1][0] == reverse("admin:orders_order_change", args=[order.pk])
    assert (order.channel, order.status, order.customer.email) == (
        phone,
        Order.Status.BACKORDERED,
        "caller@example.com",
    )
    lines = {line.sku: line for line in order.lines.all()}
    assert (lines["TEE-RED-M"].unit_price, lines["TEE-RED-M"].quantity_reserved) == (Decimal("19.90"), 2)
    assert (lines["MUG-1"].unit_price, lines["MUG-1"].quantity_reserved, lines["MUG-1"].quantity_backordered) == (
        Decimal("7.50"),
        1,
        2,
    )
    assert order.total == Decimal("62.30")
    tee.refresh_from_db()
    assert tee.reserved == 2
    placed = order.events.get(type="placed")
    assert placed.actor == "user:boss"
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"{order.number} placed for phone: backordered." in texts
    # The same form posted again (a double click) places nothing more.
    boss.post(MANUAL, data, follow=True)
    assert Order.objects.count() == 1


def test_price_list_applies_to_lines_keyed_without_a_price(boss, phone, catalogue):
    phone.price_list = PriceList.objects.create(code="phone", name="Phone")
    phone.save()
    PriceListItem.objects.create(price_list=phone.price_list, product=catalogue["tee"], unit_price="17.00")
    boss.post(MANUAL, form_data(boss, [(catalogue["tee"], 1, "")]))
    assert Order.objects.get().lines.get().unit_price == Decimal("17.00")


def test_bad_address_is_placed_on_hold_and_said_so(boss, phone, catalogue):
    response = boss.post(MANUAL, form_data(boss, [(catalogue["tee"], 1, "")], postal_code="7870"), follow=True)
    order = Order.objects.get()
    assert (order.status, order.hold_reason) == (Order.Status.ON_HOLD, "address_invalid")
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"{order.number} placed for phone: on hold (address_invalid)." in texts


def test_inactive_product_is_shown_on_its_line_and_nothing_is_placed(boss, phone, catalogue):
    catalogue["mug"].active = False
    catalogue["mug"].save()
    response = boss.post(MANUAL, form_data(boss, [(catalogue["tee"], 1, ""), (catalogue["mug"], 1, "")]))
    assert response.status_code == 200
    assert Order.objects.count() == 0
    assert response.context["lines"].forms[1].errors["product"] == ["Product 'MUG-1' is not for sale."]


def test_an_order_needs_a_line(boss, phone):
    response = boss.post(MANUAL, form_data(boss, []))
    assert response.status_code == 200
    assert response.context["lines"].non_form_errors()
    assert Order.objects.count() == 0


def test_staff_without_the_add_permission_may_not_key_in_orders(client, django_user_model, phone):
    clerk = django_user_model.objects.create_user("clerk", "clerk@example.com", "pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(clerk)
    assert client.get(MANUAL).status_code == 403
    assert MANUAL not in client.get(reverse("admin:orders_order_changelist")).content.decode()
