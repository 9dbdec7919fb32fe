"""The manager's dashboard in a real browser: reached from the admin index, every chart drawn by Chart.js."""

from __future__ import annotations

import pytest

from tests import factories
from tests.metrics.conftest import build_kpi_cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ("chart-lead-time", "chart-on-time", "chart-accuracy", "chart-return-rate", "chart-reasons", "chart-stages")

# True when Chart.js owns the canvas and has painted at least one non-transparent pixel on it.
DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  if (!window.Chart || !Chart.getChart(canvas) || canvas.width === 0 || canvas.height === 0) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
  return false;
}"""


def test_the_dashboard_draws_its_charts_with_the_seeded_figures(logged_in_page, live_server, screenshot_path):
    channel, _ = factories.channel_with_key("webstore")
    warehouse = factories.LocationFactory(code="MAIN", priority=1)
    channel.locations.add(warehouse)
    build_kpi_cohort(channel, warehouse)
    page = logged_in_page

    page.click("#kpi-dashboard-link")
    page.wait_for_url(f"{live_server.url}/admin/dashboard/")
    page.goto(f"{live_server.url}/admin/dashboard/?start=2025-03-01&end=2025-03-08")
    page.wait_for_selector("#kpi-dashboard[data-charts-ready=true]")

    for chart in CHARTS:
        assert page.locator(f"#{chart}").is_visible()
        assert page.evaluate(DRAWN, chart), f"{chart} was not drawn"
    lead = page.evaluate("() => Chart.getChart('chart-lead-time').data.datasets[0].data")
    assert lead == [48, 51, 36, None, None, 36, None]
    reasons = page.evaluate("() => Chart.getChart('chart-reasons').data")
    assert reasons["labels"][:2] == ["Missing item", "Wrong item"]
    assert reasons["datasets"][0]["data"][:2] == [2, 1]
    assert page.locator('[data-kpi="orders"] .kpi-value').inner_text() == "7"
    assert page.locator('[data-kpi="orders"] .kpi-delta').get_attribute("data-direction") == "up"
    assert page.locator("#slowest-stage").is_visible()
    page.screenshot(path=screenshot_path("dashboard"), full_page=True)

    page.select_option("select[name=channel]", "market")
    page.click("#kpi-filters input[type=submit]")
    page.wait_for_selector("#kpi-dashboard[data-charts-ready=true]")
    assert "channel=market" in page.url
    assert page.locator('[data-kpi="orders"] .kpi-value').inner_text() == "1"
    assert page.evaluate(DRAWN, "chart-on-time")
    page.screenshot(path=screenshot_path("dashboard-market"), full_page=True)
