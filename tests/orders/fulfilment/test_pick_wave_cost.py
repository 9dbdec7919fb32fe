"""A pick wave costs the same statements for 2 shipments or 20, and moves each with its tote and event."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders import picking
from orders.models import OrderEvent, Shipment
from tests import factories

pytestmark = pytest.mark.django_db


def _wave(n: int) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        pick_list = picking.pick_list_create(location_code="MAIN", max_shipments=n, actor="user:picker")
    return len(ctx.captured_queries), pick_list


def test_a_wave_of_20_costs_what_a_wave_of_2_costs(channel, floor):
    for i in range(22):
        factories.place(channel, f"W-{i}", lines=[("MUG", 1), ("TEE", 1)])

    small, _ = _wave(2)
    large, pick_list = _wave(20)

    assert large == small
    shipments = list(Shipment.objects.filter(pick_list=pick_list).order_by("tote"))
    assert [s.tote for s in shipments] == [f"T{i:02d}" for i in range(1, 21)]
    assert {s.status for s in shipments} == {"picking"}
    events = OrderEvent.objects.filter(type="shipment.picking", data__pick_list=pick_list.number)
    assert sorted((e.data["shipment_id"], e.data["tote"]) for e in events) == sorted((s.pk, s.tote) for s in shipments)
    assert sum(line["quantity"] for line in pick_list.lines) == 40
