"""A picker at the pick station on a handheld: scan the shipment, scan each unit, a wrong one is refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from orders.models import Shipment
from orders.roles import ensure_roles
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_picker_scans_a_shipment_to_picked_on_a_handheld(browser, live_server, screenshot_path):
    channel, _ = factories.channel_with_key("web")
    warehouse = factories.LocationFactory(code="MAIN", priority=1)
    channel.locations.add(warehouse)
    factories.stock(factories.ProductFactory(sku="TEE", name="Tee", barcode="0001112223334"), warehouse, 10, "C-03")
    factories.ProductFactory(sku="CAP", name="Cap")
    shipment = factories.place(channel, "E2E-P", lines=[("TEE", 2)]).shipments.get()
    ensure_roles()
    user = factories.UserFactory(username="picker1", is_staff=True)
    user.groups.add(Group.objects.get(name="picker"))

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server.url}/floor/pick/")
        page.fill("#id_username", "picker1")
        page.fill("#id_password", "pw-for-tests-123")
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/floor/pick/")
        page.keyboard.type(shipment.number)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/floor/pick/{shipment.pk}/")

        page.keyboard.type("0001112223334")
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('feedback').className === 'ok'")
        page.keyboard.type("CAP")
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('feedback').className === 'bad'")
        page.screenshot(path=screenshot_path("refused"))
        page.keyboard.type("TEE")
        page.keyboard.press("Enter")
        page.wait_for_selector("#picked")
        page.screenshot(path=screenshot_path("picked"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
    assert Shipment.objects.get(pk=shipment.pk).status == "picked"
