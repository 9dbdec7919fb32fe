"""A person in the back office: upload an order file, see what failed, fix the cause, replay it."""

import pytest
from playwright.sync_api import expect

from orders.models import Order
from tests import factories
from tests.channels_app.payloads import csv_rows, write_csv
from tests.e2e.conftest import browser, logged_in_page, page, screenshot_path  # noqa: F401 - shared fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_a_csv_then_replay_the_failed_order(logged_in_page, live_server, tmp_path, screenshot_path):  # noqa: F811
    channel, _ = factories.channel_with_key("webstore")
    warehouse = factories.LocationFactory(code="MAIN")
    channel.locations.add(warehouse)
    factories.stock(factories.ProductFactory(sku="TEE-RED-M"), warehouse, 10)
    path = write_csv(
        tmp_path / "orders.csv",
        csv_rows("WEB-1", ("TEE-RED-M", 1, "19.90")) + csv_rows("WEB-2", ("MUG-NEW", 2, "7.50")),
    )
    ui = logged_in_page
    ui.goto(f"{live_server.url}/admin/channels_app/inboundorder/")
    ui.click("text=Import a file")
    ui.select_option("#id_channel", "webstore")
    ui.select_option("#id_format", "csv")
    ui.set_input_files("#id_file", str(path))
    ui.click("input[value=Import]")
    ui.wait_for_selector(".messagelist")
    assert "File orders.csv: imported 1, duplicates 0, failed 1" in ui.inner_text(".messagelist")
    ui.screenshot(path=screenshot_path("after-upload"), full_page=True)

    ui.click("text=see what failed")
    rows = ui.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)  # waits for the filtered changelist to load
    assert "No product with SKU 'MUG-NEW'" in rows.first.inner_text()

    factories.ProductFactory(sku="MUG-NEW")
    rows.first.locator("input[name=_selected_action]").check()
    ui.select_option("select[name=action]", "replay")
    ui.click("button[name=index]")
    ui.wait_for_selector(".messagelist")
    assert "Replayed: 1 imported." in ui.inner_text(".messagelist")
    ui.screenshot(path=screenshot_path("after-replay"), full_page=True)
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["WEB-1", "WEB-2"]
