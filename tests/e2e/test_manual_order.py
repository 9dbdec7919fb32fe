"""A phone order keyed in the back office with a real browser: the SKU is found by typing (select2 autocomplete)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from channels_app.models import SalesChannel
from orders.models import Order
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_key_in_a_phone_order_picking_the_sku_by_autocomplete(logged_in_page, live_server, screenshot_path):
    phone = factories.ChannelFactory(code="phone", kind=SalesChannel.Kind.PHONE)
    warehouse = factories.LocationFactory(code="MAIN", priority=1)
    phone.locations.add(warehouse)
    factories.ProductFactory(sku="MUG-BLUE", name="Mug blue")
    tee = factories.ProductFactory(sku="TEE-RED-M", name="Tee red M", price=Decimal("19.90"))
    factories.stock(tee, warehouse, 5)

    page = logged_in_page
    page.goto(f"{live_server.url}/admin/orders/order/")
    page.click("text=Key in an order")
    page.fill("#id_email", "caller@example.com")
    page.fill("#id_ship_name", "Cal Ler")
    page.fill("#id_line1", "5 Oak Ave")
    page.fill("#id_city", "Austin")
    page.fill("#id_region", "TX")
    page.fill("#id_postal_code", "78701")
    # The first line's SKU: open the select2 box, type, pick the one match.
    page.locator("#manual-order-lines tr.line").first.locator(".select2-selection").click()
    page.locator(".select2-search__field").fill("TEE-RED")
    expect(page.locator(".select2-results__option")).to_have_count(1)  # the mug does not match
    page.locator(".select2-results__option", has_text="TEE-RED-M").click()
    page.fill("#id_lines-0-quantity", "2")
    page.screenshot(path=screenshot_path("manual-order-form"))
    page.click("input[type=submit][value='Place order']")
    page.wait_for_url("**/change/")

    order = Order.objects.get()
    assert (order.channel.code, order.status, order.customer.email) == ("phone", "received", "caller@example.com")
    line = order.lines.get()
    assert (line.sku, line.quantity, line.unit_price, line.quantity_reserved) == ("TEE-RED-M", 2, Decimal("19.90"), 2)
    assert f"{order.number} placed for phone: received." in page.locator(".messagelist").inner_text()
