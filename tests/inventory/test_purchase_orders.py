"""Suppliers and purchase orders: draft -> sent -> partially_received -> received, or cancelled."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail

from inventory import purchase_lifecycle, purchasing
from inventory.models import StockItem, StockMovement, Supplier, SupplierProduct
from inventory.purchasing import POLineInput, ReceiptLineInput
from inventory.selectors import stock_drift, supplier_performance
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(db):
    return Supplier.objects.create(name="Acme", email="orders@acme.test", lead_time_days=5)


@pytest.fixture
def goods(warehouse, acme):
    tee, mug = factories.ProductFactory(sku="TEE"), factories.ProductFactory(sku="MUG", cost=Decimal("3.00"))
    SupplierProduct.objects.create(supplier=acme, product=tee, supplier_sku="AC-T1", unit_cost=Decimal("4.50"))
    return tee, mug


def create(acme, expected_on=date(2026, 12, 1)):
    return purchasing.purchase_order_create(
        supplier=acme,
        location_code="MAIN",
        expected_on=expected_on,
        lines=[POLineInput("TEE", 10), POLineInput("MUG", 4)],
        actor="user:buyer",
    )


def test_created_as_draft_with_supplier_or_product_cost(acme, goods):
    po = create(acme)
    assert po.status == "draft"
    assert po.number.startswith("PO-")
    costs = {ln.product.sku: ln.unit_cost for ln in po.lines.select_related("product")}
    assert costs == {"TEE": Decimal("4.50"), "MUG": Decimal("3.00")}
    assert list(po.events.values_list("type", flat=True)) == ["created"]


def test_received_in_two_parts_ends_received_with_stock_and_lead_time(acme, goods, django_capture_on_commit_callbacks):
    po = create(acme)
    with django_capture_on_commit_callbacks(execute=True):
        purchasing.purchase_order_send(po=po, actor="user:buyer")
    po.refresh_from_db()
    sent_at = po.sent_at
    assert po.status == "sent"
    assert sent_at is not None

    first = sent_at + timedelta(days=2)
    po = purchasing.purchase_order_receive(
        po=po, lines=[ReceiptLineInput("TEE", 6)], actor="user:dock", received_at=first
    )
    assert po.status == "partially_received"
    assert po.lead_time_days is None

    second = sent_at + timedelta(days=3, hours=12)
    po = purchasing.purchase_order_receive(
        po=po, lines=[ReceiptLineInput("TEE", 4), ReceiptLineInput("MUG", 4)], actor="user:dock", received_at=second
    )
    po.refresh_from_db()
    assert po.status == "received"
    assert po.received_at == second
    assert po.lead_time_days == Decimal("3.50")
    assert po.on_time is (second.date() <= date(2026, 12, 1))
    stock = {i.product.sku: i.on_hand for i in StockItem.objects.select_related("product")}
    assert stock == {"TEE": 10, "MUG": 4}
    receipts = StockMovement.objects.filter(kind="receipt", reference=f"purchase_order:{po.number}")
    assert sorted(receipts.values_list("quantity", flat=True)) == [4, 4, 6]
    assert [e.type for e in po.events.order_by("at", "id")] == [
        "created",
        "sent",
        "emailed",
        "partially_received",
        "received",
    ]
    perf = supplier_performance().get(pk=acme.pk)
    assert perf.received_count == 1
    assert perf.lead_time_days_avg == Decimal("3.50")
    assert stock_drift() == []


def test_over_receipt_is_refused_and_changes_nothing(acme, goods):
    po = create(acme)
    purchasing.purchase_order_send(po=po, actor="t")
    purchasing.purchase_order_receive(po=po, lines=[ReceiptLineInput("TEE", 8)], actor="t")
    with pytest.raises(purchasing.OverReceipt):
        purchasing.purchase_order_receive(
            po=po, lines=[ReceiptLineInput("MUG", 1), ReceiptLineInput("TEE", 3)], actor="t"
        )
    po.refresh_from_db()
    assert po.status == "partially_received"
    assert {ln.product.sku: ln.quantity_received for ln in po.lines.select_related("product")} == {"TEE": 8, "MUG": 0}
    assert StockMovement.objects.filter(kind="receipt").count() == 1


def test_a_draft_cannot_be_received_and_a_received_po_cannot_be_cancelled(acme, goods):
    po = create(acme)
    with pytest.raises(purchase_lifecycle.InvalidTransition):
        purchasing.purchase_order_receive(po=po, lines=[ReceiptLineInput("TEE", 1)], actor="t")
    purchasing.purchase_order_send(po=po, actor="t")
    purchasing.purchase_order_receive(po=po, lines=[ReceiptLineInput("TEE", 10), ReceiptLineInput("MUG", 4)], actor="t")
    with pytest.raises(purchase_lifecycle.InvalidTransition):
        purchasing.purchase_order_cancel(po=po, actor="t")


def test_transition_table_is_the_only_way(acme, goods):
    po = create(acme)
    purchasing.purchase_order_cancel(po=po, actor="t", reason="not needed")
    po.refresh_from_db()
    assert po.status == "cancelled"
    assert po.cancelled_at is not None
    with pytest.raises(purchase_lifecycle.InvalidTransition):
        purchasing.purchase_order_send(po=po, actor="t")


def test_receipt_allocates_waiting_backorders(channel, acme, goods, django_capture_on_commit_callbacks):
    order = factories.place(channel, "B-1", lines=(("TEE", 3),))
    assert order.status == "backordered"
    po = create(acme)
    purchasing.purchase_order_send(po=po, actor="t")
    with django_capture_on_commit_callbacks(execute=True):
        purchasing.purchase_order_receive(po=po, lines=[ReceiptLineInput("TEE", 5)], actor="t")
    order.refresh_from_db()
    assert order.status == "received"
    assert StockItem.objects.get(product__sku="TEE").reserved == 3


def test_supplier_on_time_rate_and_lead_time_over_several_orders(acme, goods):
    for days_late, lead in ((-1, 4), (2, 7)):
        po = create(acme, expected_on=None)
        purchasing.purchase_order_send(po=po, actor="t")
        po.refresh_from_db()
        at = po.sent_at + timedelta(days=lead)
        po.expected_on = (at - timedelta(days=days_late)).date()
        po.save(update_fields=["expected_on"])
        purchasing.purchase_order_receive(
            po=po, lines=[ReceiptLineInput("TEE", 10), ReceiptLineInput("MUG", 4)], actor="t", received_at=at
        )
    perf = supplier_performance().get(pk=acme.pk)
    assert (perf.received_count, perf.on_time_count, perf.rated_count) == (2, 1, 2)
    assert perf.lead_time_days_avg == Decimal("5.5")


def test_sending_emails_the_supplier_a_csv(acme, goods, django_capture_on_commit_callbacks):
    po = create(acme, expected_on=None)
    with django_capture_on_commit_callbacks(execute=True):
        purchasing.purchase_order_send(po=po, actor="t")
    po.refresh_from_db()
    assert po.expected_on == datetime.now(UTC).date() + timedelta(days=5)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["orders@acme.test"]
    name, content, mimetype = message.attachments[0]
    assert name == f"{po.number}.csv"
    assert mimetype == "text/csv"
    assert "AC-T1,TEE" in content
    assert ",10,4.50" in content
    # The task is idempotent: a re-run does not e-mail twice.
    from inventory.tasks import purchase_order_email_task

    assert purchase_order_email_task(purchase_order_id=po.pk) is False
    assert len(mail.outbox) == 1
