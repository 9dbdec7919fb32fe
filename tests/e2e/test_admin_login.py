import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_logs_into_the_back_office(logged_in_page, live_server, screenshot_path):
    page = logged_in_page
    assert page.locator("#site-name").inner_text() == "OMS back office"
    page.screenshot(path=screenshot_path("admin-index"))
