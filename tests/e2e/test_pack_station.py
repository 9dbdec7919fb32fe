"""A packer at the pack station with a USB scanner (typed codes + Enter), at desk and phone sizes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from orders import picking
from orders.models import Shipment, StationScan
from orders.roles import ensure_roles
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _picked_shipment() -> Shipment:
    channel, _ = factories.channel_with_key("web")
    warehouse = factories.LocationFactory(code="MAIN", priority=1)
    channel.locations.add(warehouse)
    factories.stock(factories.ProductFactory(sku="TEE", name="Tee", barcode="0001112223334"), warehouse, 10, "C-03")
    factories.stock(factories.ProductFactory(sku="MUG", name="Mug", barcode="0004445556667"), warehouse, 10, "A-01")
    factories.ProductFactory(sku="CAP", name="Cap")
    order = factories.place(channel, "E2E-1", lines=[("TEE", 2), ("MUG", 1)])
    shipment = order.shipments.get()
    picking.shipment_pick(shipment=shipment, lines={"TEE": 2, "MUG": 1}, actor="test")
    return shipment


def _login(page, live_server, role: str) -> None:
    ensure_roles()
    user = factories.UserFactory(username=f"{role}1", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    page.goto(f"{live_server.url}/floor/{'pack' if role == 'packer' else 'pick'}/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-for-tests-123")
    page.click("input[type=submit]")


def _scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: type into whatever has focus, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def _pack_at_the_station(page, live_server, screenshot_path, size: str) -> None:
    shipment = _picked_shipment()
    _login(page, live_server, "packer")
    page.wait_for_url(f"{live_server.url}/floor/pack/")
    assert page.evaluate("document.activeElement.id") == "scan"
    _scan(page, shipment.number)
    page.wait_for_url(f"{live_server.url}/floor/pack/{shipment.pk}/")
    assert page.evaluate("document.activeElement.id") == "scan"

    _scan(page, "0001112223334")
    page.wait_for_function("document.getElementById('feedback').className === 'ok'")
    assert page.locator('tr[data-sku="TEE"] .count').inner_text() == "1"

    _scan(page, "CAP")  # a wrong item: refused on the spot
    page.wait_for_function("document.getElementById('feedback').className === 'bad'")
    assert "Wrong item" in page.locator("#feedback").inner_text()
    assert page.locator("#mis-picks").inner_text() == "1"
    assert page.evaluate("document.activeElement.id") == "scan"  # still ready for the next scan

    _scan(page, "TEE")
    page.wait_for_function("document.querySelector('tr[data-sku=\"TEE\"] .count').textContent === '2'")
    _scan(page, "TEE")  # one too many
    page.wait_for_function("document.getElementById('feedback').textContent.includes('Too many')")
    page.screenshot(path=screenshot_path(f"{size}-refused"))
    _scan(page, "0004445556667")
    page.wait_for_selector("#dims")  # every item scanned: weight and size next
    assert page.evaluate("document.activeElement.id") == "weight_grams"
    page.fill("#weight_grams", "900")
    page.fill("#length_mm", "300")
    page.fill("#width_mm", "200")
    page.fill("#height_mm", "100")
    page.click("#dims button[type=submit]")
    page.wait_for_selector("#packed")
    page.screenshot(path=screenshot_path(f"{size}-packed"), full_page=True)

    href = page.get_attribute("#label-link", "href")
    label = page.request.get(f"{live_server.url}{href}")
    assert label.status == 200
    assert label.headers["content-type"] == "application/pdf"
    assert label.body().startswith(b"%PDF")
    from tests.orders.fulfilment.conftest import decode_pdf

    assert decode_pdf(label.body()) == [shipment.number]

    shipment.refresh_from_db()
    assert (shipment.status, shipment.weight_grams, shipment.length_mm) == ("packed", 900, 300)
    outcomes = sorted(StationScan.objects.filter(shipment=shipment, station="pack").values_list("outcome", flat=True))
    assert outcomes == ["ok", "ok", "ok", "too_many", "wrong_item"]


def test_packer_scans_items_sees_a_wrong_scan_refused_packs_and_gets_the_label(page, live_server, screenshot_path):
    _pack_at_the_station(page, live_server, screenshot_path, "desk")


def test_pack_station_works_on_a_phone_sized_handheld(browser, live_server, screenshot_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        _pack_at_the_station(page, live_server, screenshot_path, "phone")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing runs off the side of the screen
    finally:
        context.close()
