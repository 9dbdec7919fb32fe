"""Daily reorder drafts, and the low / dead stock reports."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory import purchasing
from inventory.models import PurchaseOrder, StockItem, StockMovement, Supplier, SupplierProduct
from inventory.tasks import reorder_drafts_task
from tests import factories

pytestmark = pytest.mark.django_db


def row(product, location, on_hand):
    if on_hand:
        return factories.stock(product, location, on_hand)
    return StockItem.objects.create(product=product, location=location)


def reorder(item: StockItem, point: int, quantity: int) -> StockItem:
    item.reorder_point, item.reorder_quantity = point, quantity
    item.save(update_fields=["reorder_point", "reorder_quantity"])
    return item


@pytest.fixture
def setup(warehouse):
    east = factories.LocationFactory(code="EAST")
    acme = Supplier.objects.create(name="Acme", email="a@acme.test", lead_time_days=4)
    bolt = Supplier.objects.create(name="Bolt", email="b@bolt.test", lead_time_days=2)
    tee, mug, cap, pin = (factories.ProductFactory(sku=s) for s in ("TEE", "MUG", "CAP", "PIN"))
    SupplierProduct.objects.create(supplier=acme, product=tee, unit_cost=Decimal("4.00"))
    SupplierProduct.objects.create(supplier=bolt, product=tee, unit_cost=Decimal("3.00"))  # cheaper...
    SupplierProduct.objects.create(supplier=acme, product=mug, unit_cost=Decimal("2.00"), preferred=True)
    SupplierProduct.objects.create(supplier=bolt, product=mug, unit_cost=Decimal("1.00"))  # ...but acme preferred
    SupplierProduct.objects.create(supplier=bolt, product=cap, unit_cost=Decimal("5.00"))
    rows = {
        "tee": reorder(row(tee, warehouse, 2), 5, 20),  # low: 2 < 5
        "mug": reorder(row(mug, warehouse, 1), 3, 10),  # low
        "cap": reorder(row(cap, warehouse, 9), 3, 10),  # fine
        "cap_east": reorder(row(cap, east, 0), 2, 1),  # low, at another location
        "pin": reorder(row(pin, warehouse, 0), 2, 5),  # low, no supplier
    }
    return {"acme": acme, "bolt": bolt, "rows": rows}


def drafted():
    return {
        (po.supplier.name, po.location.code): {ln.product.sku: ln.quantity for ln in po.lines.select_related("product")}
        for po in PurchaseOrder.objects.select_related("supplier", "location")
    }


def test_daily_task_drafts_one_po_per_supplier_and_location(setup):
    assert reorder_drafts_task() == 3
    assert drafted() == {
        ("Bolt", "MAIN"): {"TEE": 20},  # cheapest supplier
        ("Acme", "MAIN"): {"MUG": 10},  # preferred supplier
        ("Bolt", "EAST"): {"CAP": 2},  # reorder_point - available beats a smaller reorder quantity
    }
    assert set(PurchaseOrder.objects.values_list("status", flat=True)) == {"draft"}


def test_a_second_run_drafts_nothing_because_drafts_count_as_incoming(setup):
    assert reorder_drafts_task() == 3
    assert reorder_drafts_task() == 0
    assert PurchaseOrder.objects.count() == 3


def test_incoming_on_sent_orders_prevents_a_draft(setup):
    po = purchasing.purchase_order_create(
        supplier=setup["acme"], location_code="MAIN", lines=[purchasing.POLineInput("TEE", 3)], actor="t"
    )
    purchasing.purchase_order_send(po=po, actor="t")
    purchasing.reorder_drafts_create()
    assert "TEE" not in drafted().get(("Bolt", "MAIN"), {})


def test_reserved_units_count_against_the_reorder_point(channel, setup):
    row = setup["rows"]["cap"]  # 9 on hand, point 3
    channel.locations.add(row.location)
    factories.place(channel, "R-1", lines=(("CAP", 7),))  # available 2 < 3
    purchasing.reorder_drafts_create()
    assert drafted()[("Bolt", "MAIN")]["CAP"] == 10


def test_low_stock_report(staff_api, setup):
    purchasing.purchase_order_create(
        supplier=setup["acme"], location_code="MAIN", lines=[purchasing.POLineInput("TEE", 7)], actor="t"
    )
    r = staff_api.get("/api/v1/stock/low/")
    assert r.status_code == 200
    rows = {(x["sku"], x["location"]): x for x in r.json()["results"]}
    assert set(rows) == {("TEE", "MAIN"), ("MUG", "MAIN"), ("CAP", "EAST"), ("PIN", "MAIN")}
    assert rows[("TEE", "MAIN")]["incoming"] == 7
    assert rows[("TEE", "MAIN")]["available"] == 2
    assert rows[("MUG", "MAIN")]["incoming"] == 0
    r = staff_api.get("/api/v1/stock/low/?location=EAST")
    assert [x["sku"] for x in r.json()["results"]] == ["CAP"]


def test_dead_stock_report_values_unsold_stock_at_cost(staff_api, channel, warehouse):
    slow = factories.ProductFactory(sku="SLOW", cost=Decimal("2.50"))
    fast = factories.ProductFactory(sku="FAST", cost=Decimal("1.00"))
    old = factories.ProductFactory(sku="OLD", cost=Decimal("3.00"))
    factories.stock(slow, warehouse, 4)
    fast_item = factories.stock(fast, warehouse, 5)
    old_item = factories.stock(old, warehouse, 2)
    row(factories.ProductFactory(sku="NONE"), warehouse, 0)  # nothing on hand: not dead stock
    StockMovement.objects.create(stock_item=fast_item, kind="shipment", quantity=0, reference="x")
    shipped_long_ago = StockMovement.objects.create(stock_item=old_item, kind="shipment", quantity=0, reference="y")
    StockMovement.objects.filter(pk=shipped_long_ago.pk).update(created_at=timezone.now() - timedelta(days=120))

    r = staff_api.get("/api/v1/stock/dead/?days=90")
    assert r.status_code == 200, r.content
    body = r.json()
    rows = {x["sku"]: x for x in body["results"]}
    assert set(rows) == {"SLOW", "OLD"}
    assert rows["SLOW"]["value"] == "10.00"
    assert rows["SLOW"]["last_shipped_at"] is None
    assert rows["OLD"]["value"] == "6.00"
    assert rows["OLD"]["last_shipped_at"] is not None
    assert body["total_value"] == "16.00"
    assert body["days"] == 90
    r = staff_api.get("/api/v1/stock/dead/?days=150")
    assert {x["sku"] for x in r.json()["results"]} == {"SLOW"}
    assert staff_api.get("/api/v1/stock/dead/?days=abc").status_code == 400


@pytest.mark.parametrize("rows", [1, 20])
def test_reports_cost_constant_queries(staff_api, warehouse, rows, django_assert_num_queries):
    for i in range(rows):
        item = factories.stock(factories.ProductFactory(sku=f"P{i}"), warehouse, 1)
        reorder(item, 5, 5)
    staff_api.get("/api/v1/stock/low/")
    with django_assert_num_queries(2):
        assert len(staff_api.get("/api/v1/stock/low/").json()["results"]) == rows
    with django_assert_num_queries(3):  # auth, rows, total value
        assert len(staff_api.get("/api/v1/stock/dead/").json()["results"]) == rows


def test_reports_are_staff_only(channel_api):
    assert channel_api.get("/api/v1/stock/low/").status_code == 403
    assert channel_api.get("/api/v1/stock/dead/").status_code == 403


def test_reorder_drafts_command(setup):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("reorder_drafts", stdout=out)
    assert "3 purchase order(s) drafted." in out.getvalue()
    assert PurchaseOrder.objects.count() == 3


def test_recurring_purchase_orders_are_drafted_when_due_once(warehouse):
    from datetime import date

    from inventory.models import RecurringPurchaseOrder, RecurringPurchaseOrderLine

    acme = Supplier.objects.create(name="Acme", email="a@acme.test", lead_time_days=3)
    tee = factories.ProductFactory(sku="TEE", cost=Decimal("1.50"))
    template = RecurringPurchaseOrder.objects.create(
        supplier=acme, location=warehouse, interval_days=7, next_run_on=date(2026, 11, 20)
    )
    RecurringPurchaseOrderLine.objects.create(template=template, product=tee, quantity=12)

    assert purchasing.recurring_purchase_orders_draft(today=date(2026, 11, 19)) == []
    (po,) = purchasing.recurring_purchase_orders_draft(today=date(2026, 11, 28))  # one run missed: one draft
    assert po.status == "draft"
    assert po.recurring == template
    assert po.expected_on == date(2026, 12, 1)
    assert [(ln.product.sku, ln.quantity, ln.unit_cost) for ln in po.lines.all()] == [("TEE", 12, Decimal("1.50"))]
    template.refresh_from_db()
    assert template.next_run_on == date(2026, 12, 4)
    assert purchasing.recurring_purchase_orders_draft(today=date(2026, 11, 28)) == []
    template.active = False
    template.save()
    assert purchasing.recurring_purchase_orders_draft(today=date(2026, 12, 30)) == []
