import pytest
from django.core import mail

from orders.errors import InvalidTransition
from returns import services
from returns.models import ReturnNotification
from returns.services import ReceiveLineInput as R
from returns.services import ReturnLineInput as L
from returns.tasks import return_email_task

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


def test_email_task_is_idempotent(delivered_order):
    rma = services.return_request(order=delivered_order, lines=[L("TEE-RED-M", 1, "damaged")], actor="t")
    assert return_email_task.delay(return_id=rma.pk, kind="approved").get() is True
    assert return_email_task.delay(return_id=rma.pk, kind="approved").get() is False
    assert len(mail.outbox) == 1
    assert ReturnNotification.objects.get().sent_at is not None
