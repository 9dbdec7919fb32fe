from decimal import Decimal

import pytest

from inventory.errors import InvalidInput
from returns import selectors, services
from returns.models import Refund, StoreCreditEntry
from returns.services import ReceiveLineInput as R
from returns.services import ReturnLineInput as L

pytestmark = pytest.mark.django_db


def _received(order, lines, receive, resolution="refund"):
    rma = services.return_request(order=order, lines=[L(*line) for line in lines], resolution=resolution, actor="t")
    services.return_approve(rma=rma, actor="t")
    services.return_receive(rma=rma, lines=[R(*r) for r in receive], actor="t")
    return rma


def test_close_refunds_the_returned_lines_value_by_default(delivered_order):
    rma = _received(
        delivered_order,
        [("TEE-RED-M", 2, "damaged"), ("MUG-1", 1, "other")],
        [("TEE-RED-M", 2, "restock"), ("MUG-1", 1, "scrap")],
    )
    services.return_close(rma=rma, actor="user:ann", reference="re_123")
    refund = Refund.objects.get(return_request=rma)
    assert (refund.amount, refund.currency, refund.method, refund.reference, refund.actor) == (
        Decimal("49.30"),
        "USD",
        "original_payment",
        "re_123",
        "user:ann",
    )
    rma.refresh_from_db()
    assert rma.refund_amount == Decimal("49.30")


def test_partial_refund_is_allowed_and_more_than_paid_is_not(delivered_order):
    rma = _received(delivered_order, [("TEE-RED-M", 1, "damaged")], [("TEE-RED-M", 1, "scrap")])
    with pytest.raises(InvalidInput) as exc:
        services.return_close(rma=rma, actor="t", amount="19.91")
    assert (exc.value.code, exc.value.attr) == ("amount_exceeds_paid", "amount")
    assert not Refund.objects.exists()
    services.return_close(rma=rma, actor="t", amount="10.00", method="bank_transfer")
    assert Refund.objects.get().amount == Decimal("10.00")


@pytest.mark.parametrize("amount", ["-1", "abc", "1.001", "NaN"])
def test_bad_amounts_are_refused(delivered_order, amount):
    rma = _received(delivered_order, [("TEE-RED-M", 1, "damaged")], [("TEE-RED-M", 1, "scrap")])
    with pytest.raises(InvalidInput) as exc:
        services.return_close(rma=rma, actor="t", amount=amount)
    assert exc.value.code == "invalid_amount"


def test_zero_closes_without_money(delivered_order):
    rma = _received(delivered_order, [("TEE-RED-M", 1, "damaged")], [("TEE-RED-M", 1, "scrap")])
    services.return_close(rma=rma, actor="t", amount="0")
    rma.refresh_from_db()
    assert (rma.status, rma.refund_amount, Refund.objects.count()) == ("closed", Decimal("0.00"), 0)


def test_store_credit_resolution_credits_the_ledger(delivered_order):
    rma = _received(
        delivered_order,
        [("TEE-RED-M", 1, "no_longer_needed")],
        [("TEE-RED-M", 1, "restock")],
        resolution="store_credit",
    )
    services.return_close(rma=rma, actor="t")
    customer = delivered_order.customer
    entry = StoreCreditEntry.objects.get(customer=customer)
    assert (entry.amount, entry.cause, entry.return_request) == (Decimal("19.90"), "return", rma)
    assert not Refund.objects.exists()
    assert selectors.store_credit_balance(customer=customer) == {"USD": Decimal("19.90")}


def test_store_credit_spend_never_goes_below_zero(delivered_order):
    customer = delivered_order.customer
    services.store_credit_adjust(
        customer=customer, amount=Decimal("5.00"), currency="usd", cause="adjustment", note="goodwill", actor="t"
    )
    services.store_credit_adjust(
        customer=customer, amount=Decimal("-3.00"), currency="USD", cause="redemption", note="SO-9", actor="t"
    )
    with pytest.raises(services.InsufficientStoreCredit):
        services.store_credit_adjust(
            customer=customer, amount=Decimal("-2.01"), currency="USD", cause="redemption", note="SO-10", actor="t"
        )
    assert selectors.store_credit_balance(customer=customer) == {"USD": Decimal("2.00")}
    assert list(StoreCreditEntry.objects.order_by("id").values_list("cause", flat=True)) == ["adjustment", "redemption"]
