from decimal import Decimal

import pytest

from inventory.errors import InvalidInput
from orders.errors import AlreadyShipped
from orders.models import Order, OrderEvent
from returns import services
from returns.models import Refund
from returns.services import ReceiveLineInput as R
from returns.services import ReplacementInput as X
from returns.services import ReturnLineInput as L
from tests import factories

from .conftest import ship_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee_large(warehouse):
    product = factories.ProductFactory(sku="TEE-RED-L", name="Tee red L", price="19.90", cost="8.00")
    factories.stock(product, warehouse, 3)
    return product


def _exchange(order, qty=1):
    return services.return_request(
        order=order,
        lines=[L("TEE-RED-M", qty, "not_as_described")],
        replacements=[X("TEE-RED-L", qty)],
        actor="t",
    )


def test_approving_an_exchange_places_the_replacement_order(delivered_order, tee_large):
    rma = _exchange(delivered_order)
    services.return_approve(rma=rma, actor="user:ann")
    rma.refresh_from_db()
    exchange = rma.exchange_order
    assert exchange is not None
    assert exchange.channel_id == delivered_order.channel_id
    assert exchange.customer_id == delivered_order.customer_id
    assert exchange.ship_line1 == delivered_order.ship_line1
    line = exchange.lines.get()
    assert (line.sku, line.quantity, line.unit_price, line.quantity_reserved) == ("TEE-RED-L", 1, Decimal("0.00"), 1)
    assert exchange.status == "received"
    assert exchange.exchange_for == rma
    event = OrderEvent.objects.get(order=delivered_order, type="return.exchange_placed")
    assert event.data == {"return": rma.number, "order": exchange.number}


def test_exchange_closes_with_nothing_left_to_refund(delivered_order, tee_large):
    rma = _exchange(delivered_order)
    services.return_approve(rma=rma, actor="t")
    services.return_receive(rma=rma, lines=[R("TEE-RED-M", 1, "restock")], actor="t")
    with pytest.raises(InvalidInput):
        services.return_close(rma=rma, actor="t", amount="0.01")
    services.return_close(rma=rma, actor="t")
    rma.refresh_from_db()
    assert rma.refund_amount == Decimal("0.00")
    assert not Refund.objects.exists()


def test_replacement_worth_more_than_the_return_is_refused(delivered_order, tee_large):
    with pytest.raises(InvalidInput) as exc:
        services.return_request(
            order=delivered_order, lines=[L("TEE-RED-M", 1, "other")], replacements=[X("TEE-RED-L", 2)], actor="t"
        )
    assert exc.value.code == "exchange_exceeds_return"


def test_unknown_replacement_sku_is_refused(delivered_order):
    with pytest.raises(InvalidInput) as exc:
        services.return_request(
            order=delivered_order, lines=[L("TEE-RED-M", 1, "other")], replacements=[X("NOPE", 1)], actor="t"
        )
    assert (exc.value.code, exc.value.attr) == ("unknown_sku", "replacements.0.sku")


def test_rejecting_an_approved_exchange_cancels_its_order(delivered_order, tee_large):
    rma = _exchange(delivered_order)
    services.return_approve(rma=rma, actor="t")
    services.return_reject(rma=rma, reason="never sent back", actor="t")
    rma.refresh_from_db()
    assert rma.exchange_order.status == "cancelled"


def test_rejecting_after_the_replacement_shipped_is_refused(delivered_order, tee_large):
    rma = _exchange(delivered_order)
    services.return_approve(rma=rma, actor="t")
    rma.refresh_from_db()
    ship_order(rma.exchange_order)
    with pytest.raises(AlreadyShipped):
        services.return_reject(rma=rma, reason="too late", actor="t")
    rma.refresh_from_db()
    assert rma.status == "approved"
    assert Order.objects.get(pk=rma.exchange_order_id).status == "shipped"
