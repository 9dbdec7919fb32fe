from decimal import Decimal

import pytest

from inventory.errors import InvalidInput
from orders.models import OrderEvent
from returns import services
from returns.models import ReturnPolicy
from returns.services import ReturnLineInput as L
from tests import factories

from .conftest import ship_order

pytestmark = pytest.mark.django_db


def _codes(exc) -> list[tuple[str, str]]:
    return [(e.code, e.attr) for e in exc.value.errors]


def test_request_records_lines_number_and_event(delivered_order):
    rma = services.return_request(
        order=delivered_order, lines=[L("TEE-RED-M", 1, "wrong_item")], resolution="refund", note="too small", actor="t"
    )
    assert rma.number == f"RMA-{rma.pk:06d}"
    assert rma.status == "requested"
    line = rma.lines.get()
    assert (line.sku, line.quantity, line.quantity_requested, line.reason) == ("TEE-RED-M", 1, 1, "wrong_item")
    assert line.unit_price == Decimal("19.90")
    assert delivered_order.lines.get(sku="TEE-RED-M").quantity_returned == 1
    event = OrderEvent.objects.get(order=delivered_order, type="return.requested")
    assert event.data["return"] == rma.number
    assert event.data["lines"] == [{"sku": "TEE-RED-M", "quantity": 1, "reason": "wrong_item"}]


def test_nothing_shipped_is_refused(channel, tee):
    order = factories.place(channel, "WEB-2", lines=[("TEE-RED-M", 1)])
    with pytest.raises(InvalidInput) as exc:
        services.return_request(order=order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    assert _codes(exc) == [("nothing_shipped", "order")]


def test_quantity_over_shipped_is_refused(delivered_order):
    with pytest.raises(InvalidInput) as exc:
        services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 3, "damaged")], actor="t")
    assert _codes(exc) == [("quantity_exceeds_returnable", "lines.0.quantity")]


def test_only_shipped_units_are_returnable(channel, warehouse, tee):
    """Two ordered, one shipped (the other backordered): only one can come back."""
    gadget = factories.ProductFactory(sku="GADGET", price="5.00")
    factories.stock(gadget, warehouse, 1)
    order = ship_order(factories.place(channel, "WEB-3", lines=[("GADGET", 2)]))
    line = order.lines.get()
    assert (line.quantity_shipped, line.quantity_backordered) == (1, 1)
    with pytest.raises(InvalidInput) as exc:
        services.return_request(order=order, lines=[L("GADGET", 2, "damaged")], actor="t")
    assert _codes(exc) == [("quantity_exceeds_returnable", "lines.0.quantity")]
    services.return_request(order=order, lines=[L("GADGET", 1, "damaged")], actor="t")


def test_unknown_reason_sku_resolution_and_duplicates_are_each_reported(delivered_order):
    with pytest.raises(InvalidInput) as exc:
        services.return_request(
            order=delivered_order,
            lines=[L("TEE-RED-M", 1, "changed_mind"), L("NOPE", 1, "other"), L("TEE-RED-M", 1, "other")],
            resolution="cash",
            actor="t",
        )
    assert set(_codes(exc)) == {
        ("invalid_choice", "resolution"),
        ("invalid_choice", "lines.0.reason"),
        ("unknown_sku", "lines.1.sku"),
        ("duplicate_sku", "lines.2.sku"),
    }
    assert delivered_order.returns.count() == 0


def test_second_return_takes_only_what_is_left_and_rejection_frees_it(delivered_order):
    first = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    with pytest.raises(InvalidInput) as exc:
        services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 2, "damaged")], actor="t")
    assert _codes(exc) == [("quantity_exceeds_returnable", "lines.0.quantity")]
    assert "1 returnable" in exc.value.errors[0].detail
    second = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    with pytest.raises(InvalidInput):
        services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    services.return_reject(rma=first, reason="no proof", actor="t")
    assert delivered_order.lines.get(sku="TEE-RED-M").quantity_returned == 1
    third = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    assert {second.status, third.status} == {"requested"}


def test_window_closes_days_after_delivery(channel, tee):
    order = ship_order(factories.place(channel, "WEB-4", lines=[("TEE-RED-M", 2)]), delivered_days_ago=31)
    with pytest.raises(InvalidInput) as exc:
        services.return_request(order=order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    assert _codes(exc) == [("return_window_closed", "lines.0.sku")]


def test_window_is_per_channel(channel, tee):
    ReturnPolicy.objects.create(channel=channel, window_days=60)
    order = ship_order(factories.place(channel, "WEB-5", lines=[("TEE-RED-M", 2)]), delivered_days_ago=31)
    services.return_request(order=order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    ReturnPolicy.objects.filter(channel=channel).update(window_days=14)
    order = ship_order(factories.place(channel, "WEB-6", lines=[("TEE-RED-M", 1)]), delivered_days_ago=15)
    with pytest.raises(InvalidInput) as exc:
        services.return_request(order=order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    assert _codes(exc) == [("return_window_closed", "lines.0.sku")]


def test_window_follows_the_setting(channel, tee, settings):
    settings.RETURN_WINDOW_DAYS = 7
    order = ship_order(factories.place(channel, "WEB-7", lines=[("TEE-RED-M", 1)]), delivered_days_ago=8)
    with pytest.raises(InvalidInput) as exc:
        services.return_request(order=order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    assert _codes(exc) == [("return_window_closed", "lines.0.sku")]


def test_shipped_but_not_yet_delivered_may_be_returned(channel, tee):
    order = ship_order(factories.place(channel, "WEB-8", lines=[("TEE-RED-M", 1)]))
    rma = services.return_request(order=order, lines=[L("TEE-RED-M", 1, "missing_item")], actor="t")
    assert rma.lines.get().quantity == 1
