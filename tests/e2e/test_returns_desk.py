"""The returns desk in a real browser: scan an RMA, scan its items, choose dispositions, receive."""

import pytest

from inventory.models import StockItem
from returns import services
from returns.models import Return
from tests import factories
from tests.returns.conftest import ship_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def approved_rma(channel, warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M", name="Tee red M", price="19.90", cost="8.00", barcode="400100")
    factories.stock(product, warehouse, 5, bin="A-01")
    order = ship_order(factories.place(channel, "WEB-1", lines=[("TEE-RED-M", 2)]), delivered_days_ago=1)
    rma = services.return_request(
        order=order, lines=[services.ReturnLineInput("TEE-RED-M", 2, "defective")], note="one is torn", actor="t"
    )
    services.return_approve(rma=rma, actor="t")
    return rma


def test_scan_an_rma_and_receive_its_items_with_dispositions(
    logged_in_page, live_server, approved_rma, warehouse, screenshot_path
):
    page = logged_in_page
    item = StockItem.objects.get(product__sku="TEE-RED-M", location=warehouse)
    on_hand = item.on_hand

    page.goto(f"{live_server.url}/admin/returns/return/desk/")
    page.fill("#scan", approved_rma.number.lower())
    page.press("#scan", "Enter")
    page.wait_for_selector("#rma-title")
    assert approved_rma.number in page.inner_text("#rma-title")
    assert page.is_disabled("#receive")

    page.fill("#scan", "999999")  # not on this return
    page.press("#scan", "Enter")
    assert "not on this return" in page.inner_text("#scan-message")

    page.fill("#scan", "400100")  # the product's barcode
    page.press("#scan", "Enter")
    page.fill("#scan", "TEE-RED-M")  # or its SKU
    page.press("#scan", "Enter")
    page.fill("#scan", "SCRAP")  # a command barcode: the last unit is scrapped
    page.press("#scan", "Enter")
    page.fill("#scan", "400100")  # a third unit was never announced
    page.press("#scan", "Enter")
    assert "already scanned" in page.inner_text("#scan-message")

    rows = page.locator("#units tbody tr")
    assert rows.count() == 2
    assert rows.nth(1).locator("input[value=scrap]").is_checked()
    rows.nth(1).locator(".condition").fill("torn seam")
    rows.nth(0).locator(".condition").fill("as new")
    assert page.inner_text("#expected tr[data-sku='TEE-RED-M'] .scanned") == "2"
    assert page.inner_text("#receive") == "Receive 2 units"
    page.screenshot(path=screenshot_path("scanned"), full_page=True)

    page.click("#receive")
    page.wait_for_selector("text=received: 1 restocked, 1 scrapped")
    page.screenshot(path=screenshot_path("received"), full_page=True)
    assert page.is_visible("#scan")  # ready for the next parcel

    rma = Return.objects.get(pk=approved_rma.pk)
    assert rma.status == "received"
    line = rma.lines.get()
    assert (line.quantity_restocked, line.quantity_scrapped) == (1, 1)
    assert dict(line.receipts.values_list("disposition", "condition")) == {"restock": "as new", "scrap": "torn seam"}
    item.refresh_from_db()
    assert item.on_hand == on_hand + 1
