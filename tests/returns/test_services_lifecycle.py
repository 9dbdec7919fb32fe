from decimal import Decimal

import pytest

from inventory.errors import InvalidInput
from inventory.models import StockItem, StockMovement
from orders.errors import InvalidTransition
from orders.models import OrderEvent
from returns import lifecycle, services
from returns.models import ReturnReceipt, ReturnStatus
from returns.services import ReceiveLineInput as R
from returns.services import ReturnLineInput as L
from tests import factories

from .conftest import ship_order

pytestmark = pytest.mark.django_db


def _request(order, *lines, **kw):
    return services.return_request(order=order, lines=[L(*line) for line in lines], actor="t", **kw)


def test_transition_table_reads_as_designed():
    S = ReturnStatus
    assert {
        S.REQUESTED: {S.APPROVED, S.REJECTED},
        S.APPROVED: {S.RECEIVED, S.REJECTED},
        S.RECEIVED: {S.CLOSED},
        S.CLOSED: set(),
        S.REJECTED: set(),
    } == lifecycle.TRANSITIONS


def test_happy_path_writes_each_step_on_the_order_timeline(delivered_order):
    rma = _request(delivered_order, ("TEE-RED-M", 1, "damaged"))
    services.return_approve(rma=rma, actor="user:ann")
    services.return_receive(rma=rma, lines=[R("TEE-RED-M", 1, "restock")], actor="user:ann")
    services.return_close(rma=rma, actor="user:ann")
    rma.refresh_from_db()
    assert rma.status == "closed"
    assert all([rma.approved_at, rma.received_at, rma.closed_at])
    types = list(
        OrderEvent.objects.filter(order=delivered_order, type__startswith="return.").values_list("type", flat=True)
    )
    assert types == ["return.requested", "return.approved", "return.received", "return.closed"]


@pytest.mark.parametrize(
    ("steps", "illegal"),
    [
        ([], "receive"),
        ([], "close"),
        (["approve"], "approve"),
        (["approve"], "close"),
        (["approve", "receive"], "reject"),
        (["approve", "receive", "close"], "close"),
        (["reject"], "approve"),
    ],
)
def test_illegal_moves_are_refused_and_change_nothing(delivered_order, steps, illegal):
    rma = _request(delivered_order, ("TEE-RED-M", 1, "damaged"))
    do = {
        "approve": lambda: services.return_approve(rma=rma, actor="t"),
        "reject": lambda: services.return_reject(rma=rma, reason="x", actor="t"),
        "receive": lambda: services.return_receive(rma=rma, lines=[R("TEE-RED-M", 1, "restock")], actor="t"),
        "close": lambda: services.return_close(rma=rma, actor="t"),
    }
    for step in steps:
        do[step]()
    rma.refresh_from_db()
    before = (rma.status, OrderEvent.objects.count(), StockMovement.objects.count())
    with pytest.raises(InvalidTransition) as exc:
        do[illegal]()
    assert exc.value.code == "invalid_transition"
    rma.refresh_from_db()
    assert (rma.status, OrderEvent.objects.count(), StockMovement.objects.count()) == before


def test_receive_restocks_one_and_scraps_one(delivered_order, tee, warehouse):
    rma = _request(delivered_order, ("TEE-RED-M", 2, "defective"))
    services.return_approve(rma=rma, actor="t")
    item = StockItem.objects.get(product=tee, location=warehouse)
    on_hand = item.on_hand
    services.return_receive(
        rma=rma,
        lines=[R("TEE-RED-M", 1, "restock", "sealed"), R("TEE-RED-M", 1, "scrap", "torn seam")],
        actor="user:ann",
    )
    item.refresh_from_db()
    assert item.on_hand == on_hand + 1
    movement = StockMovement.objects.filter(stock_item=item, kind="return_restock").get()
    assert movement.quantity == 1
    line = rma.lines.get()
    assert (line.quantity_received, line.quantity_restocked, line.quantity_scrapped) == (2, 1, 1)
    scrap = ReturnReceipt.objects.get(return_line=line, disposition="scrap")
    assert (scrap.condition, scrap.unit_cost, scrap.write_off_value) == ("torn seam", Decimal("8.00"), Decimal("8.00"))
    restock = ReturnReceipt.objects.get(return_line=line, disposition="restock")
    assert (restock.stock_movement, restock.location, restock.write_off_value) == (movement, warehouse, 0)
    event = OrderEvent.objects.get(order=delivered_order, type="return.received")
    assert event.data["write_off_value"] == "8.00"
    assert event.data["restocked"] == {"TEE-RED-M": 1}
    # the ledger still sums to on hand
    assert sum(StockMovement.objects.filter(stock_item=item).values_list("quantity", flat=True)) == item.on_hand


def test_restock_lets_a_waiting_backorder_take_the_unit(channel, warehouse, django_capture_on_commit_callbacks):
    product = factories.ProductFactory(sku="LAST", price="10.00")
    factories.stock(product, warehouse, 1)
    first = ship_order(factories.place(channel, "A", lines=[("LAST", 1)]), delivered_days_ago=1)
    waiting = factories.place(channel, "B", lines=[("LAST", 1)])
    assert waiting.status == "backordered"
    rma = _request(first, ("LAST", 1, "no_longer_needed"))
    services.return_approve(rma=rma, actor="t")
    with django_capture_on_commit_callbacks(execute=True):
        services.return_receive(rma=rma, lines=[R("LAST", 1, "restock")], actor="t")
    waiting.refresh_from_db()
    assert waiting.status == "received"
    assert waiting.lines.get().quantity_reserved == 1


def test_restock_at_a_chosen_returns_location(delivered_order, tee, channel):
    returns_bay = factories.LocationFactory(code="RETURNS", priority=99)
    rma = _request(delivered_order, ("TEE-RED-M", 1, "damaged"))
    services.return_approve(rma=rma, actor="t")
    services.return_receive(rma=rma, lines=[R("TEE-RED-M", 1, "restock")], actor="t", location_code="RETURNS")
    assert StockItem.objects.get(product=tee, location=returns_bay).on_hand == 1


def test_receive_refuses_more_than_announced_unknown_skus_and_bad_dispositions(delivered_order):
    rma = _request(delivered_order, ("TEE-RED-M", 1, "damaged"))
    services.return_approve(rma=rma, actor="t")
    with pytest.raises(InvalidInput) as exc:
        services.return_receive(
            rma=rma,
            lines=[
                R("TEE-RED-M", 1, "restock"),
                R("TEE-RED-M", 1, "scrap"),
                R("MUG-1", 1, "restock"),
                R("TEE-RED-M", 1, "burn"),
            ],
            actor="t",
        )
    codes = {(e.code, e.attr) for e in exc.value.errors}
    assert codes == {
        ("unknown_sku", "lines.2.sku"),
        ("invalid_choice", "lines.3.disposition"),
        ("quantity_exceeds_return", "lines"),
    }
    rma.refresh_from_db()
    assert rma.status == "approved"
    assert not StockMovement.objects.filter(kind="return_restock").exists()


def test_units_not_in_the_parcel_become_returnable_again(delivered_order):
    rma = _request(delivered_order, ("TEE-RED-M", 2, "damaged"), ("MUG-1", 1, "damaged"))
    services.return_approve(rma=rma, actor="t")
    services.return_receive(rma=rma, lines=[R("TEE-RED-M", 1, "scrap")], actor="t")
    tee_line = delivered_order.lines.get(sku="TEE-RED-M")
    mug_line = delivered_order.lines.get(sku="MUG-1")
    assert (tee_line.quantity_returned, mug_line.quantity_returned) == (1, 0)
    assert {(rl.sku, rl.quantity_requested, rl.quantity) for rl in rma.lines.all()} == {
        ("TEE-RED-M", 2, 1),
        ("MUG-1", 1, 0),
    }
    services.return_close(rma=rma, actor="t")
    rma.refresh_from_db()
    assert rma.refund_amount == Decimal("19.90")
