"""``kpi_report`` prints what the API answers for the same arguments."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from .conftest import WEB_COHORT, WHOLE_COHORT

pytestmark = pytest.mark.django_db


def report(*args: str) -> str:
    out = io.StringIO()
    call_command("kpi_report", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("code", "orders"), [(None, WHOLE_COHORT["orders"]), ("webstore", WEB_COHORT["orders"]), ("market", 1)]
)
def test_json_equals_the_api_for_the_same_arguments(kpi_cohort, staff_api, code, orders):
    args = ["--start", "2025-03-01", "--end", "2025-03-08"] + (["--channel", code] if code else [])
    params = {"start": "2025-03-01", "end": "2025-03-08"} | ({"channel": code} if code else {})
    api = staff_api.get("/api/v1/metrics/kpis/", params)
    printed = report(*args, "--format", "json")
    assert json.loads(printed) == api.json()
    assert printed.strip() == api.content.decode()  # the very same bytes
    assert json.loads(printed)["orders"] == orders


def test_csv_equals_the_api_csv(kpi_cohort, staff_api):
    api = staff_api.get("/api/v1/metrics/kpis/", {"start": "2025-03-01", "end": "2025-03-08", "format": "csv"})
    printed = report("--start", "2025-03-01", "--end", "2025-03-08", "--format", "csv")
    assert printed == api.content.decode()
    assert next(csv.DictReader(io.StringIO(printed)))["orders"] == "7"


def test_the_table_names_each_figure(kpi_cohort):
    printed = report("--start", "2025-03-01", "--end", "2025-03-08", "--channel", "webstore")
    assert "placed 2025-03-01 to 2025-03-08" in printed
    lines = {line.rsplit("  ", 1)[0].strip(): line.rsplit("  ", 1)[1] for line in printed.splitlines()[1:]}
    assert lines["Orders"] == "6"
    assert lines["Order lead time, median (h)"] == "42.0"
    assert lines["Perfect orders (%)"] == "50.0"


def test_the_table_shows_a_dash_for_a_null(db):
    printed = report("--start", "2030-01-01", "--end", "2030-01-02")
    assert any(line.strip().startswith("Return rate (%)") and line.endswith("  -") for line in printed.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2025-02-30", "--end", "2025-03-08"], "start must be a date"),
        (["--start", "2025-03-08", "--end", "2025-03-01"], "end must be after start"),
        (["--start", "2025-03-01", "--end", "2025-03-08", "--channel", "nope"], "No channel with code 'nope'"),
    ],
)
def test_bad_arguments_are_a_clear_command_error(db, args, message):
    with pytest.raises(CommandError, match=message):
        report(*args)
