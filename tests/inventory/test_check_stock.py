"""``check_stock`` proves ledger = on_hand and reserved = open reservations, and exits 1 on drift."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F

from inventory.models import StockItem, StockMovement
from inventory.selectors import stock_drift
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(channel, warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M")
    item = factories.stock(product, warehouse, 5)
    factories.place(channel, "A", lines=(("TEE-RED-M", 2),))
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (5, 2)
    return item


def run():
    out, err = StringIO(), StringIO()
    try:
        call_command("check_stock", stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def test_consistent_stock_passes(placed):
    code, output = run()
    assert code == 0, output
    assert "consistent" in output
    assert stock_drift() == []


def test_on_hand_changed_behind_the_ledger_is_reported(placed):
    StockItem.objects.filter(pk=placed.pk).update(on_hand=F("on_hand") + 3)
    code, output = run()
    assert code == 1
    assert "TEE-RED-M@MAIN" in output
    assert "on_hand 8 but the ledger sums to 5" in output


def test_a_tampered_movement_is_reported(placed):
    StockMovement.objects.filter(stock_item=placed).update(quantity=1)
    code, output = run()
    assert code == 1
    assert "the ledger sums to 1" in output


def test_reserved_without_an_open_reservation_is_reported(placed):
    StockItem.objects.filter(pk=placed.pk).update(reserved=3)
    code, output = run()
    assert code == 1
    assert "reserved 3 but open reservations hold 2" in output


def test_cancelled_order_releases_and_stays_consistent(channel, placed):
    from orders.models import Order
    from orders.services import cancel_order

    cancel_order(order=Order.objects.get(external_id="A"), reason="test", actor="test")
    placed.refresh_from_db()
    assert placed.reserved == 0
    assert run()[0] == 0
