"""Admin for suppliers and purchase orders: constant-query changelists, and actions through the services."""

from decimal import Decimal

import pytest
from django.test import Client

from inventory import purchasing
from inventory.models import PurchaseOrder, StockItem, Supplier
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(manager):
    client = Client()
    client.force_login(manager)
    return client


def make_po(supplier, qty=5):
    return purchasing.purchase_order_create(
        supplier=supplier,
        location_code="MAIN",
        lines=[purchasing.POLineInput("TEE", qty, Decimal("2.00"))],
        actor="t",
    )


@pytest.mark.parametrize("rows", [1, 20])
def test_changelists_cost_constant_queries(admin_client, warehouse, rows, django_assert_num_queries):
    factories.ProductFactory(sku="TEE")
    suppliers = [Supplier.objects.create(name=f"S{i}", email=f"s{i}@x.test") for i in range(rows)]
    for supplier in suppliers:
        make_po(supplier)
    admin_client.get("/admin/inventory/supplier/")  # warm session and permission caches
    with django_assert_num_queries(5):
        assert admin_client.get("/admin/inventory/supplier/").status_code == 200
    admin_client.get("/admin/inventory/purchaseorder/")
    with django_assert_num_queries(9):  # session, user, filters (supplier, location), dates, count, rows
        assert admin_client.get("/admin/inventory/purchaseorder/").status_code == 200


def test_send_and_receive_actions_go_through_the_services(admin_client, warehouse):
    factories.ProductFactory(sku="TEE")
    po = make_po(Supplier.objects.create(name="Acme", email="a@acme.test"))
    url = "/admin/inventory/purchaseorder/"
    r = admin_client.post(url, {"action": "receive_open_quantities", "_selected_action": [po.pk]}, follow=True)
    assert "only a sent purchase order can be received" in r.content.decode()
    admin_client.post(url, {"action": "send_selected", "_selected_action": [po.pk]})
    admin_client.post(url, {"action": "receive_open_quantities", "_selected_action": [po.pk]})
    po = PurchaseOrder.objects.get(pk=po.pk)
    assert po.status == "received"
    assert StockItem.objects.get(product__sku="TEE").on_hand == 5
    assert admin_client.get(f"/admin/inventory/purchaseorder/{po.pk}/change/").status_code == 200


def test_recurring_orders_and_channel_rules_have_admin_pages(admin_client, channel, warehouse):
    from datetime import date

    from inventory.models import ChannelStockRule, RecurringPurchaseOrder

    supplier = Supplier.objects.create(name="Acme", email="a@acme.test")
    RecurringPurchaseOrder.objects.create(
        supplier=supplier, location=warehouse, interval_days=7, next_run_on=date(2026, 12, 1)
    )
    ChannelStockRule.objects.create(channel=channel, location=warehouse, safety_stock=2)
    for url in ("/admin/inventory/recurringpurchaseorder/", "/admin/inventory/channelstockrule/"):
        r = admin_client.get(url)
        assert r.status_code == 200
        assert "MAIN" in r.content.decode()
