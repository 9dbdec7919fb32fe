import pytest
from django.core import mail

from orders.errors import InvalidTransition
from returns import services
from returns.models import ReturnNotification
from returns.notifications import return_email_send
from returns.services import ReceiveLineInput as R
from returns.services import ReturnLineInput as L

pytestmark = pytest.mark.django_db


def test_customer_is_emailed_after_commit_at_approval_receipt_and_refund(
    delivered_order, django_capture_on_commit_callbacks
):
    rma = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.return_approve(rma=rma, actor="t")
    assert mail.outbox == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    assert [m.subject for m in mail.outbox] == [f"Your return {rma.number} is approved"]
    assert mail.outbox[0].to == ["ana@example.com"]
    assert "TEE-RED-M" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        services.return_receive(rma=rma, lines=[R("TEE-RED-M", 1, "restock")], actor="t")
        services.return_close(rma=rma, actor="t")
    assert [m.subject for m in mail.outbox[1:]] == [
        f"We received your return {rma.number}",
        f"Your return {rma.number}: refund issued",
    ]
    assert "19.90 USD refunded" in mail.outbox[2].body


def test_rejected_transaction_sends_nothing(delivered_order, django_capture_on_commit_callbacks):
    rma = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    services.return_reject(rma=rma, reason="x", actor="t")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidTransition):
        services.return_approve(rma=rma, actor="t")
    assert mail.outbox == []


def test_a_second_dispatch_sends_nothing(delivered_order):
    rma = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    assert return_email_send(return_id=rma.pk, kind="approved") is True
    assert return_email_send(return_id=rma.pk, kind="approved") is False
    assert len(mail.outbox) == 1
    assert ReturnNotification.objects.get().sent_at is not None


def test_an_email_lost_with_the_broker_goes_out_once_from_the_outbox_sweep(
    delivered_order, django_capture_on_commit_callbacks
):
    from orders import outbox

    rma = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    with django_capture_on_commit_callbacks(execute=False):  # the enqueue after commit never happens
        services.return_approve(rma=rma, actor="t")
    assert mail.outbox == []
    outbox.dispatch_pending()
    outbox.dispatch_pending()
    about_returns = [m.subject for m in mail.outbox if "return" in m.subject]
    assert about_returns == [f"Your return {rma.number} is approved"]
