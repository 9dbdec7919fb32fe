"""The manager's dashboard through Django's client: staff only, the figures, the comparison, a fixed query cost."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics.dashboard import Headline, headlines
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/admin/dashboard/"
PERIOD = {"start": "2025-03-01", "end": "2025-03-08"}


@pytest.fixture
def staff_client(manager):
    client = Client()
    client.force_login(manager)
    return client


def _chart_data(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="kpi-chart-data" type="application/json">') + len(
        '<script id="kpi-chart-data" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_anonymous_and_non_staff_users_go_to_the_login(db):
    assert Client().get(URL).status_code == 302
    clerk = factories.UserFactory(username="clerk", is_staff=False)
    client = Client()
    client.force_login(clerk)
    response = client.get(URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_index_links_to_the_dashboard(staff_client):
    assert 'href="/admin/dashboard/"' in staff_client.get("/admin/").content.decode()


def test_staff_see_the_period_headlines_charts_and_lists(kpi_cohort, staff_client):
    response = staff_client.get(URL, PERIOD)
    assert response.status_code == 200
    cards = {h.key: h for h in response.context["headlines"]}
    assert cards["orders"].current == 7
    assert cards["order_accuracy_pct"].current == 66.67
    assert cards["order_lead_time_hours.mean"].current == 44.4
    # The previous period (02-22 to 03-01) holds only O9: one order, nothing delivered.
    assert cards["orders"].previous == 1
    assert (cards["orders"].direction, cards["orders"].verdict) == ("up", "good")
    assert cards["order_lead_time_hours.mean"].direction == "none"
    html = response.content.decode()
    assert "Orders placed 2025-03-01 to 2025-03-07" in html
    for canvas in ("chart-lead-time", "chart-on-time", "chart-accuracy", "chart-return-rate", "chart-reasons"):
        assert f'id="{canvas}"' in html
    assert "metrics/vendor/chartjs/chart.umd.min.js" in html
    charts = _chart_data(response)
    assert charts["interval"] == "day"
    assert charts["labels"][0] == "2025-03-01"
    assert charts["lead_mean"] == [48.0, 51.0, 36.0, None, None, 36.0, None]
    assert charts["reasons"]["units"][:2] == [2, 1]


def test_the_channel_filter_narrows_every_figure(kpi_cohort, staff_client):
    response = staff_client.get(URL, {**PERIOD, "channel": "market"})
    cards = {h.key: h for h in response.context["headlines"]}
    assert cards["orders"].current == 1
    assert _chart_data(response)["orders"] == [0, 1, 0, 0, 0, 0, 0]


def test_bad_filters_fall_back_to_the_last_30_days_with_a_message(staff_client):
    response = staff_client.get(URL, {"start": "2025-03-09", "end": "2025-03-01"})
    assert response.status_code == 200
    assert "End must be after start" in response.content.decode()  # the admin's message list, capitalised
    f = response.context["filter"]
    assert (f.end - f.start).days == 30


def test_up_and_down_are_judged_by_what_a_manager_wants():
    lower_returns = Headline("return_rate_pct", "Return rate", "%", 2.0, 3.5, higher_is_better=False)
    fewer_orders = Headline("orders", "Orders", "", 5, 9, higher_is_better=True)
    same = Headline("orders", "Orders", "", 5, 5, higher_is_better=True)
    assert (lower_returns.direction, lower_returns.verdict, lower_returns.delta) == ("down", "good", -1.5)
    assert (fewer_orders.direction, fewer_orders.verdict) == ("down", "bad")
    assert (same.direction, same.verdict) == ("flat", "neutral")
    cards = headlines(
        {"orders": 3, "order_lead_time_hours": {"mean": 10.0, "p90": None}},
        {"orders": 3, "order_lead_time_hours": {"mean": 12.5, "p90": 20.0}},
        keys=("orders", "order_lead_time_hours.mean", "order_lead_time_hours.p90"),
    )
    assert [(c.direction, c.verdict) for c in cards] == [("flat", "neutral"), ("down", "good"), ("none", "neutral")]


def test_the_dashboard_costs_the_same_queries_for_a_small_and_a_larger_cohort(
    channel, warehouse, staff_client, django_assert_num_queries
):
    product = factories.ProductFactory(sku="A")
    factories.stock(product, warehouse, 100)
    factories.place(channel, "ONE", [("A", 1)], promised_delivery_date=timezone.now().date())
    with CaptureQueriesContext(connection) as one:
        staff_client.get(URL)
    for i in range(12):
        factories.place(channel, f"MORE-{i}", [("A", 1)], promised_delivery_date=timezone.now().date())
    with django_assert_num_queries(len(one.captured_queries)):
        staff_client.get(URL)
