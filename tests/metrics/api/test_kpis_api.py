"""GET /api/v1/metrics/kpis/ and /kpis/series/ as API.md "Reporting" says, JSON and CSV."""

from __future__ import annotations

import csv
import io

import pytest

from ..conftest import WEB_COHORT, WHOLE_COHORT

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/kpis/"
SERIES = "/api/v1/metrics/kpis/series/"
PERIOD = {"start": "2025-03-01", "end": "2025-03-08"}


def test_staff_get_every_figure_of_the_cohort(kpi_cohort, staff_api):
    response = staff_api.get(URL, PERIOD)
    assert response.status_code == 200, response.content
    assert response.json() == WHOLE_COHORT


def test_staff_may_filter_by_channel_and_location(kpi_cohort, staff_api):
    assert staff_api.get(URL, {**PERIOD, "channel": "webstore"}).json() == WEB_COHORT
    assert staff_api.get(URL, {**PERIOD, "location": "MAIN"}).json() == WEB_COHORT
    market = staff_api.get(URL, {**PERIOD, "channel": "market"}).json()
    assert market["orders"] == 1
    assert staff_api.get(URL, {**PERIOD, "customer_kind": "business"}).json()["orders"] == 1


def test_a_channel_key_sees_its_own_channel_only_whatever_it_asks(kpi_cohort, channel_api):
    assert channel_api.get(URL, PERIOD).json() == WEB_COHORT
    assert channel_api.get(URL, {**PERIOD, "channel": "market"}).json() == WEB_COHORT
    points = channel_api.get(SERIES, {**PERIOD, "interval": "month", "channel": "market"}).json()["results"]
    assert points[0]["orders"] == WEB_COHORT["orders"]


def test_an_empty_period_answers_nulls(db, staff_api):
    body = staff_api.get(URL, {"start": "2030-01-01", "end": "2030-01-02"}).json()
    assert body["orders"] == 0
    assert body["order_lead_time_hours"] == {"mean": None, "median": None, "p90": None}
    assert body["return_rate_pct"] is None
    assert body["perfect_order_pct"] is None


BAD = [
    ({"end": "2025-03-08"}, "required", "start"),
    ({"start": "2025-03-01"}, "required", "end"),
    ({"start": "2025-13-01", "end": "2025-03-08"}, "invalid_date", "start"),
    ({"start": "2025-03-01", "end": "tomorrow"}, "invalid_date", "end"),
    ({"start": "2025-03-08", "end": "2025-03-08"}, "invalid_range", "end"),
    ({"start": "2025-03-08", "end": "2025-03-01"}, "invalid_range", "end"),
    ({**PERIOD, "channel": "nope"}, "unknown_channel", "channel"),
    ({**PERIOD, "location": "NOPE"}, "unknown_location", "location"),
    ({**PERIOD, "customer_kind": "robot"}, "invalid_choice", "customer_kind"),
]


def test_bad_parameters_are_a_400_naming_the_parameter(db, staff_api):
    for params, code, attr in BAD:
        for url in (URL, SERIES):
            response = staff_api.get(url, params)
            assert response.status_code == 400, (url, params)
            body = response.json()
            assert body["type"] == "validation_error"
            assert {"code": code, "attr": attr} in [{"code": e["code"], "attr": e["attr"]} for e in body["errors"]]


def test_no_key_is_a_401(db, api):
    assert api.get(URL, PERIOD).status_code == 401


def test_csv_export_is_a_real_csv_with_the_same_figures(kpi_cohort, staff_api):
    response = staff_api.get(URL, {**PERIOD, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="kpis_2025-03-01_2025-03-08.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    row = rows[0]
    assert row["orders"] == "7"
    assert row["order_lead_time_hours_mean"] == "44.4"
    assert row["order_lead_time_hours_p90"] == "66.0"
    assert row["order_accuracy_pct"] == "66.67"
    assert row["units_returned"] == "3"


def test_csv_of_an_empty_period_has_empty_cells_for_nulls(db, staff_api):
    response = staff_api.get(URL, {"start": "2030-01-01", "end": "2030-01-02", "format": "csv"})
    row = next(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["orders"] == "0"
    assert row["on_time_delivery_pct"] == ""


def test_an_error_asked_as_csv_keeps_the_json_envelope(db, staff_api):
    response = staff_api.get(URL, {"start": "bad", "end": "2025-03-08", "format": "csv"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["attr"] == "start"


def test_series_per_day_as_json(kpi_cohort, staff_api):
    response = staff_api.get(SERIES, {**PERIOD, "interval": "day"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["interval"], body["start"], body["end"]) == ("day", "2025-03-01", "2025-03-08")
    assert [p["start"] for p in body["results"]] == [f"2025-03-0{d}" for d in range(1, 8)]
    assert body["results"][0]["end"] == "2025-03-02"
    assert [p["orders"] for p in body["results"]] == [1, 2, 1, 1, 1, 1, 0]
    assert body["results"][1]["order_lead_time_hours"]["mean"] == 51.0
    assert set(WHOLE_COHORT) <= set(body["results"][0])


def test_series_as_csv_is_one_row_per_interval(kpi_cohort, staff_api):
    response = staff_api.get(SERIES, {**PERIOD, "interval": "week", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["start"], r["end"], r["orders"]) for r in rows] == [
        ("2025-03-01", "2025-03-03", "3"),
        ("2025-03-03", "2025-03-08", "4"),
    ]


def test_a_bad_interval_is_a_400(db, staff_api):
    for params, code in (
        ({**PERIOD, "interval": "hour"}, "invalid_choice"),
        ({"start": "2020-01-01", "end": "2025-01-01", "interval": "day"}, "too_many_intervals"),
    ):
        response = staff_api.get(SERIES, params)
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert (error["code"], error["attr"]) == (code, "interval")


def test_the_openapi_schema_documents_both_endpoints_and_the_csv(db, staff_api):
    schema = staff_api.get("/api/v1/schema/", {"format": "json"}).json()
    kpis = schema["paths"]["/api/v1/metrics/kpis/"]["get"]
    assert {p["name"] for p in kpis["parameters"]} >= {"start", "end", "channel", "location"}
    assert {"application/json", "text/csv"} <= set(kpis["responses"]["200"]["content"])
    fields = schema["components"]["schemas"]["Kpi"]["properties"]
    assert set(WHOLE_COHORT) <= set(fields)
    series = schema["paths"]["/api/v1/metrics/kpis/series/"]["get"]
    assert "interval" in {p["name"] for p in series["parameters"]}
