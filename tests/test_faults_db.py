"""The database raising in the middle of a service leaves nothing half-written.

No knowledge of the services' insides: a database wrapper fails the k-th write
statement (INSERT/UPDATE/DELETE) a service sends, for every k from the first
to the last, and each time every table the service touches must read exactly
as before (no order without lines, no reservation without its order, no stock
movement without its shipment, no receipt without its stock). Then the same
call without a fault succeeds, so the snapshot does see what the service writes.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection, transaction

from channels_app.models import InboundOrder
from inventory import purchasing
from inventory import services as stock_services
from inventory.models import PurchaseOrder, PurchaseOrderLine, StockItem, StockMovement, Supplier
from orders import fulfilment, picking
from orders.models import Customer, Order, OrderEvent, OrderLine, Shipment, ShipmentLine
from orders.services import backorders_allocate, cancel_order
from returns import services as return_services
from returns.models import Return, ReturnLine, ReturnReceipt
from tests import factories

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")
WATCHED = (
    Customer,
    Order,
    OrderLine,
    OrderEvent,
    Shipment,
    ShipmentLine,
    StockItem,
    StockMovement,
    PurchaseOrder,
    PurchaseOrderLine,
    Return,
    ReturnLine,
    ReturnReceipt,
    InboundOrder,
)


class InjectedFault(DatabaseError):
    pass


class WriteFault:
    """An execute wrapper: counts write statements (to ``table`` if given) and fails the ``fail_at``-th one."""

    def __init__(self, fail_at: int = 0, table: str = ""):
        self.fail_at = fail_at
        self.table = table
        self.writes = 0

    def __call__(self, execute, sql, params, many, context):
        # A write batch (inventory.bulk.Batch) sends several bound statements as one text: each write in it
        # counts, and a failing one fails after the statements before it ran, as PostgreSQL does.
        statements = sql.split("; ")
        for i, statement in enumerate(statements):
            if statement.lstrip().upper().startswith(WRITES) and self.table in statement:
                self.writes += 1
                if self.writes == self.fail_at:
                    if i:
                        execute("; ".join(statements[:i]), params, many, context)
                    raise InjectedFault(f"injected: write #{self.writes} failed: {statement[:60]}")
        return execute(sql, params, many, context)


@contextmanager
def faulty(fail_at: int, table: str = ""):
    fault = WriteFault(fail_at, table)
    with connection.execute_wrapper(fault):
        yield fault


def snapshot() -> dict:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED}


def writes_of(call) -> int:
    """How many write statements ``call`` sends (run once, then rolled back)."""
    with transaction.atomic():
        with faulty(0) as fault:
            call()
        transaction.set_rollback(True)
    return fault.writes


def assert_all_or_nothing(call) -> int:
    """Fail each write of ``call`` in turn: every time nothing changed. Then it succeeds and changes things."""
    total = writes_of(call)
    assert total >= 2, f"expected a service with several writes, got {total}"
    for k in range(1, total + 1):
        before = snapshot()
        with pytest.raises(InjectedFault), faulty(k):
            call()
        if connection.needs_rollback:  # an inner block without its own savepoint swallowed the failure
            pytest.fail(f"write {k} of {total} failed and the service is not atomic: it broke its caller's transaction")
        after = snapshot()
        changed = [name for name in before if before[name] != after[name]]
        assert not changed, f"write {k} of {total} failed, but {changed} kept part of the work"
    before = snapshot()
    call()
    assert snapshot() != before
    return total


@pytest.fixture
def shop(channel, warehouse):
    """TEE and MUG in stock at MAIN; CAP known but out of stock."""
    for sku in ("TEE", "MUG", "CAP"):
        factories.ProductFactory(sku=sku)
    factories.stock(factories.ProductFactory(sku="TEE"), warehouse, 10)
    factories.stock(factories.ProductFactory(sku="MUG"), warehouse, 10)
    return channel


def test_place_order_is_all_or_nothing(shop):
    # Two lines in stock, one backordered: the order, its lines, a shipment, reservations, events.
    total = assert_all_or_nothing(lambda: factories.place(shop, "W-1", [("TEE", 2), ("MUG", 1), ("CAP", 1)]))
    order = Order.objects.get(external_id="W-1")
    assert order.lines.count() == 3
    assert StockItem.objects.get(product__sku="TEE").reserved == 2
    assert total >= 4


def test_cancel_order_is_all_or_nothing(shop):
    order = factories.place(shop, "W-1", [("TEE", 2), ("MUG", 1)])
    assert_all_or_nothing(lambda: cancel_order(order=order, reason="customer asked", actor="test"))
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert StockItem.objects.get(product__sku="TEE").reserved == 0


def test_pick_pack_and_ship_are_all_or_nothing(shop):
    order = factories.place(shop, "W-1", [("TEE", 2), ("MUG", 1)])
    shipment = order.shipments.get()
    assert_all_or_nothing(lambda: picking.shipment_pick(shipment=shipment, lines={"TEE": 2, "MUG": 1}, actor="test"))
    assert_all_or_nothing(
        lambda: fulfilment.shipment_pack(
            shipment=shipment, weight_grams=900, length_mm=300, width_mm=200, height_mm=100, actor="test"
        )
    )
    assert_all_or_nothing(
        lambda: fulfilment.shipment_ship(shipment=shipment, carrier="ups", tracking_number="1Z999", actor="test")
    )
    item = StockItem.objects.get(product__sku="TEE")
    assert (item.on_hand, item.reserved) == (8, 0)
    assert Order.objects.get(pk=order.pk).status == "shipped"


def test_stock_receive_and_backorder_allocation_are_all_or_nothing(shop, warehouse):
    waiting = factories.place(shop, "W-1", [("CAP", 3)])
    cap = waiting.lines.get().product
    assert_all_or_nothing(
        lambda: stock_services.stock_receive(product=cap, location=warehouse, quantity=5, reference="t", actor="t")
    )
    assert_all_or_nothing(lambda: backorders_allocate(product_ids=[cap.pk], actor="test"))
    assert Order.objects.get(pk=waiting.pk).status == "received"
    assert StockItem.objects.get(product=cap).reserved == 3


def test_purchase_order_receipt_is_all_or_nothing(shop, warehouse):
    supplier = Supplier.objects.create(name="Acme", email="acme@example.com")
    po = purchasing.purchase_order_create(
        supplier=supplier,
        location_code=warehouse.code,
        lines=[purchasing.POLineInput(sku="CAP", quantity=4), purchasing.POLineInput(sku="MUG", quantity=2)],
        actor="test",
    )
    po = purchasing.purchase_order_send(po=po, actor="test")
    lines = [purchasing.ReceiptLineInput(sku="CAP", quantity=4), purchasing.ReceiptLineInput(sku="MUG", quantity=1)]
    assert_all_or_nothing(lambda: purchasing.purchase_order_receive(po=po, lines=lines, actor="test"))
    assert PurchaseOrder.objects.get(pk=po.pk).status == "partially_received"


def test_return_receipt_is_all_or_nothing(shop):
    order = factories.place(shop, "W-1", [("TEE", 2), ("MUG", 1)])
    shipment = order.shipments.get()
    fulfilment.shipment_ship(shipment=shipment, carrier="ups", tracking_number="1Z1", actor="test")
    rma = return_services.return_request(
        order=order,
        lines=[
            return_services.ReturnLineInput(sku="TEE", quantity=2, reason="damaged"),
            return_services.ReturnLineInput(sku="MUG", quantity=1, reason="wrong_item"),
        ],
        actor="test",
    )
    rma = return_services.return_approve(rma=rma, actor="test")
    received = [
        return_services.ReceiveLineInput(sku="TEE", quantity=1, disposition="restock"),
        return_services.ReceiveLineInput(sku="TEE", quantity=1, disposition="scrap"),
        return_services.ReceiveLineInput(sku="MUG", quantity=1, disposition="restock"),
    ]
    assert_all_or_nothing(lambda: return_services.return_receive(rma=rma, lines=received, actor="test"))
    assert Return.objects.get(pk=rma.pk).status == "received"
    assert StockItem.objects.get(product__sku="TEE").on_hand == 9


def test_a_fault_during_an_api_placement_answers_an_error_and_keeps_only_the_raw_payload(shop, channel_api):
    """The API stores the payload first (nothing a channel sent is lost), then places; the placement is atomic."""
    payload = factories.order_payload("API-1", lines=[{"sku": "TEE", "quantity": 1, "unit_price": "19.90"}])
    client = channel_api
    client.raise_request_exception = False
    before = snapshot()
    with faulty(1, table=OrderLine._meta.db_table):  # the order row is in; its lines fail
        response = client.post("/api/v1/orders/", payload, format="json")
    assert response.status_code >= 500
    assert response.json()["type"] == "server_error"
    after = snapshot()
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= {"InboundOrder"}, changed
    assert not Order.objects.filter(external_id="API-1").exists()
    assert InboundOrder.objects.filter(external_id="API-1").count() == 1
    # The channel retries: the order is placed once.
    assert client.post("/api/v1/orders/", payload, format="json").status_code == 201
    assert Order.objects.filter(external_id="API-1").count() == 1
