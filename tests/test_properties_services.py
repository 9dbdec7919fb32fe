"""Stateful property: the real services, called in any order, never leave the books in a state that lies.

A hypothesis ``RuleBasedStateMachine`` places, cancels, adjusts, picks, packs,
ships, delivers, returns and receives (stock and purchase orders) in random
order through the services the API and admin call, then after every step checks:

* stock: ``0 <= reserved <= on_hand`` and inventory's own drift check
  (``inventory.selectors.stock_drift``, what ``manage.py check_stock`` runs):
  the ledger sums to ``on_hand`` and ``reserved`` equals the open reservations;
* every order line: reserved + backordered + shipped = ordered (zero held when
  cancelled), shipped and reserved equal what its shipments carry, returned <=
  shipped and equal to what its live returns claim;
* every order stands where its shipments say (DESIGN.md: the least advanced
  live shipment, ``backordered`` while units wait) and in no impossible state
  (a cancelled order with a shipped parcel, a delivered one with units waiting,
  a missing timestamp).

Each example runs inside a savepoint that is rolled back, so examples do not
see each other's rows; after-commit work (backorder allocation, the outbox)
runs as it would after a real commit.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import transaction
from django.db.models import Count, Sum
from django.test import TestCase
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from inventory import purchasing
from inventory import services as stock_services
from inventory.errors import DomainError
from inventory.models import StockItem, StockMovement, Supplier
from inventory.selectors import stock_drift
from orders import fulfilment, picking
from orders.models import Order, OrderLine, OrderStatus, Shipment, ShipmentLine, ShipmentStatus
from orders.services import cancel_order
from returns import services as return_services
from returns.models import Return, ReturnLine, ReturnStatus
from tests import factories

SKUS = ("A", "B", "C")
LOCATIONS = ("MAIN", "EAST", "FAR")  # FAR serves no channel: stock there is never reserved
ACTOR = "prop"

sku = st.sampled_from(SKUS)
location = st.sampled_from(LOCATIONS)
qty = st.integers(min_value=1, max_value=5)
index = st.integers(min_value=0, max_value=50)
order_lines = st.lists(st.tuples(sku, qty), min_size=1, max_size=3, unique_by=lambda line: line[0])

LIVE = [s for s in ShipmentStatus.values if s != ShipmentStatus.CANCELLED]
# Parcels that left the building (``exception`` only ever follows ``shipped``).
LEFT = (ShipmentStatus.SHIPPED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION, ShipmentStatus.DELIVERED)
# DESIGN.md: the order stands at the least advanced of its live shipments.
ORDER_STATUS_OF_SHIPMENT = {
    ShipmentStatus.PENDING: OrderStatus.RECEIVED,
    ShipmentStatus.PICKING: OrderStatus.RECEIVED,
    ShipmentStatus.PICKED: OrderStatus.PICKED,
    ShipmentStatus.PACKED: OrderStatus.PACKED,
    ShipmentStatus.SHIPPED: OrderStatus.SHIPPED,
    ShipmentStatus.IN_TRANSIT: OrderStatus.SHIPPED,
    ShipmentStatus.EXCEPTION: OrderStatus.SHIPPED,
    ShipmentStatus.DELIVERED: OrderStatus.DELIVERED,
}
PROGRESS = [OrderStatus.RECEIVED, OrderStatus.PICKED, OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.DELIVERED]


def _nth(queryset, i: int):
    rows = list(queryset.order_by("pk"))
    return rows[i % len(rows)] if rows else None


class OrderBooks(RuleBasedStateMachine):
    """One warehouse floor; every rule calls a service; a refused call (DomainError) must change nothing."""

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.channel, _ = factories.channel_with_key("web")
        self.locations = {
            "MAIN": factories.LocationFactory(code="MAIN", priority=1),
            "EAST": factories.LocationFactory(code="EAST", priority=2),
            "FAR": factories.LocationFactory(code="FAR", priority=3),
        }
        self.channel.locations.add(self.locations["MAIN"], self.locations["EAST"])
        self.products = {s: factories.ProductFactory(sku=s) for s in SKUS}
        self.supplier = Supplier.objects.create(name="Acme", email="acme@example.com")
        factories.stock(self.products["A"], self.locations["MAIN"], 8)
        factories.stock(self.products["B"], self.locations["EAST"], 6)
        self.placed = 0
        self.refused: dict[str, int] = defaultdict(int)
        self._count()

    def _count(self) -> None:
        """What the rules can act on now (their preconditions), in three queries."""
        self.orders = Order.objects.count()
        self.shipments = dict(
            Shipment.objects.values("status").annotate(n=Count("id")).order_by().values_list("status", "n")
        )
        self.shipped_lines = OrderLine.objects.filter(quantity_shipped__gt=0).exists()
        self.returns = dict(
            Return.objects.values("status").annotate(n=Count("id")).order_by().values_list("status", "n")
        )

    def _has(self, *statuses) -> bool:
        return any(self.shipments.get(s) for s in statuses)

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _run(self, name: str, call) -> None:
        """Run one service call as a request would: its after-commit work runs; a refusal is allowed."""
        before = self._snapshot()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                call()
        except DomainError:
            self.refused[name] += 1
            assert self._snapshot() == before, f"{name} was refused but changed something"
        self._count()

    @staticmethod
    def _snapshot():
        """Stock counters, order and shipment states, and how many returns and movements there are."""
        return (
            list(StockItem.objects.order_by("pk").values_list("pk", "on_hand", "reserved")),
            list(Order.objects.order_by("pk").values_list("pk", "status")),
            list(Shipment.objects.order_by("pk").values_list("pk", "status")),
            (Return.objects.count(), StockMovement.objects.count()),
        )

    # --- orders -------------------------------------------------------------------------------------

    @initialize()
    def two_orders_in_stock(self):
        """Start with work on the floor, so the floor and return rules have something to act on."""
        self._run("place", lambda: factories.place(self.channel, "START-1", [("A", 2), ("B", 1)]))
        self._run("place", lambda: factories.place(self.channel, "START-2", [("A", 1)]))

    @rule(lines=order_lines, pending=st.booleans())
    def place(self, lines, pending):
        self.placed += 1
        status = Order.PaymentStatus.PENDING if pending and self.placed % 3 == 0 else Order.PaymentStatus.PAID
        self._run("place", lambda: factories.place(self.channel, f"P{self.placed}", lines, payment_status=status))

    @precondition(lambda self: self.orders)
    @rule(i=index, any_order=st.booleans())
    def cancel(self, i, any_order):
        """Orders nothing has left for yet, or any order not cancelled (one with a parcel out must be refused)."""
        standing = Order.objects.exclude(status=OrderStatus.CANCELLED)
        cancellable = standing.exclude(shipments__status__in=LEFT)
        order = _nth(standing if any_order or not cancellable.exists() else cancellable, i)
        if order is not None:
            self._run("cancel", lambda: cancel_order(order=order, reason="prop", actor=ACTOR))

    # --- stock --------------------------------------------------------------------------------------

    @rule(
        kind=st.sampled_from(["adjust", "receive", "purchase_order", "partial_purchase_order"]),
        s=sku,
        loc=location,
        delta=st.integers(min_value=-4, max_value=5).filter(bool),
    )
    def stock_changes(self, kind, s, loc, delta):
        """Stock moves: an adjustment (up or down), a receipt, a purchase order received in full or in part."""
        n = abs(delta)
        if kind == "adjust":
            call = lambda: stock_services.stock_adjust(sku=s, location_code=loc, delta=delta, reason="p", actor=ACTOR)  # noqa: E731
        elif kind == "receive":
            call = lambda: stock_services.stock_receive(  # noqa: E731
                product=self.products[s], location=self.locations[loc], quantity=n, reference="prop", actor=ACTOR
            )
        else:

            def call():
                po = purchasing.purchase_order_create(
                    supplier=self.supplier,
                    location_code=loc,
                    lines=[purchasing.POLineInput(sku=s, quantity=n + 1)],
                    actor=ACTOR,
                )
                po = purchasing.purchase_order_send(po=po, actor=ACTOR)
                got = n if kind == "partial_purchase_order" else n + 1
                lines = [purchasing.ReceiptLineInput(sku=s, quantity=got)]
                purchasing.purchase_order_receive(po=po, lines=lines, actor=ACTOR)

        self._run(kind, call)

    # --- the floor ----------------------------------------------------------------------------------

    @precondition(lambda self: self._has(ShipmentStatus.PENDING, ShipmentStatus.PICKING))
    @rule(i=index, exact=st.booleans())
    def pick(self, i, exact):
        shipment = _nth(Shipment.objects.filter(status__in=[ShipmentStatus.PENDING, ShipmentStatus.PICKING]), i)
        if shipment is None:
            return
        wanted = picking.expected_quantities(shipment)
        scanned = wanted if exact else {s: q + 1 for s, q in wanted.items()}  # a miscount: PickMismatch
        self._run("pick", lambda: picking.shipment_pick(shipment=shipment, lines=scanned, actor=ACTOR))

    @precondition(lambda self: self._has(ShipmentStatus.PICKED))
    @rule(i=index)
    def pack(self, i):
        shipment = _nth(Shipment.objects.filter(status=ShipmentStatus.PICKED), i)
        if shipment is not None:
            self._run(
                "pack",
                lambda: fulfilment.shipment_pack(
                    shipment=shipment, weight_grams=500, length_mm=300, width_mm=200, height_mm=100, actor=ACTOR
                ),
            )

    @precondition(lambda self: self._has(*Shipment.OPEN_STATUSES))
    @rule(i=index, any_status=st.booleans())
    def ship(self, i, any_status):
        # Packed parcels normally; sometimes any live shipment (a partner ships from pending; others are refused).
        statuses = [ShipmentStatus.PACKED] if self._has(ShipmentStatus.PACKED) and not any_status else LIVE
        shipment = _nth(Shipment.objects.filter(status__in=statuses), i)
        if shipment is not None:
            self._run(
                "ship",
                lambda: fulfilment.shipment_ship(
                    shipment=shipment, carrier="ups", tracking_number=f"1Z{shipment.pk:06d}", actor=ACTOR
                ),
            )

    @precondition(lambda self: self._has(*LEFT))
    @rule(i=index, to=st.sampled_from([ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION, ShipmentStatus.DELIVERED]))
    def carrier_says(self, i, to):
        shipment = _nth(Shipment.objects.filter(status__in=LEFT), i)
        if shipment is not None:
            self._run(
                "carrier",
                lambda: fulfilment.shipment_carrier_status(shipment=shipment, to=to, actor="carrier:prop"),
            )

    # --- returns ------------------------------------------------------------------------------------

    @precondition(lambda self: self.shipped_lines)
    @rule(i=index, n=qty, approve=st.booleans())
    def request_return(self, i, n, approve):
        """A customer asks to send back units (more than shipped is refused); staff may approve at once."""
        line = _nth(OrderLine.objects.filter(quantity_shipped__gt=0), i)
        asked = [return_services.ReturnLineInput(sku=line.sku, quantity=n, reason="damaged")]
        returns_before = Return.objects.count()
        self._run("request_return", lambda: return_services.return_request(order=line.order, lines=asked, actor=ACTOR))
        rma = Return.objects.order_by("pk").last()
        if approve and Return.objects.count() > returns_before:
            self._run("approve_return", lambda: return_services.return_approve(rma=rma, actor=ACTOR))

    @precondition(lambda self: self.returns.get(ReturnStatus.REQUESTED))
    @rule(i=index, approve=st.booleans())
    def decide_return(self, i, approve):
        rma = _nth(Return.objects.filter(status=ReturnStatus.REQUESTED), i)
        if rma is None:
            return
        if approve:
            self._run("approve_return", lambda: return_services.return_approve(rma=rma, actor=ACTOR))
        else:
            self._run("reject_return", lambda: return_services.return_reject(rma=rma, reason="no", actor=ACTOR))

    @precondition(lambda self: self.returns.get(ReturnStatus.APPROVED))
    @rule(i=index, restock=st.booleans(), short=st.booleans())
    def receive_return(self, i, restock, short):
        rma = _nth(Return.objects.filter(status=ReturnStatus.APPROVED), i)
        if rma is None:
            return
        disposition = "restock" if restock else "scrap"
        lines = [
            return_services.ReceiveLineInput(sku=rl.sku, quantity=rl.quantity - 1, disposition=disposition)
            if short and rl.quantity > 1
            else return_services.ReceiveLineInput(sku=rl.sku, quantity=rl.quantity, disposition=disposition)
            for rl in rma.lines.order_by("pk")
        ]
        self._run("receive_return", lambda: return_services.return_receive(rma=rma, lines=lines, actor=ACTOR))

    # --- what must hold after every step ------------------------------------------------------------

    @invariant()
    def stock_tells_the_truth(self):
        for on_hand, reserved in StockItem.objects.values_list("on_hand", "reserved"):
            assert 0 <= reserved <= on_hand, (on_hand, reserved)
        drift = stock_drift()
        assert drift == [], [d.describe() for d in drift]

    @invariant()
    def lines_add_up(self):
        carried = defaultdict(lambda: defaultdict(int))
        for line_id, status, units in ShipmentLine.objects.values_list("order_line_id", "shipment__status", "quantity"):
            carried[line_id][status] += units
        claimed = dict(
            ReturnLine.objects.exclude(return_request__status=ReturnStatus.REJECTED)
            .values("order_line_id")
            .annotate(units=Sum("quantity"))
            .values_list("order_line_id", "units")
        )
        for line in OrderLine.objects.select_related("order"):
            on_shipments = carried[line.pk]
            open_units = sum(on_shipments[s] for s in Shipment.OPEN_STATUSES)
            shipped_units = sum(on_shipments[s] for s in LEFT)
            where = f"{line.order.number}/{line.sku} ({line.order.status})"
            assert line.quantity_shipped == shipped_units, where
            assert line.quantity_reserved == open_units, where
            if line.order.status == OrderStatus.CANCELLED:
                assert (line.quantity_reserved, line.quantity_backordered, line.quantity_shipped) == (0, 0, 0), where
            else:
                assert line.quantity_reserved + line.quantity_backordered + line.quantity_shipped == line.quantity, (
                    where
                )
            assert 0 <= line.quantity_returned <= line.quantity_shipped, where
            assert line.quantity_returned == claimed.get(line.pk, 0), where
        for rl in ReturnLine.objects.all():
            assert rl.quantity_restocked + rl.quantity_scrapped == rl.quantity_received <= rl.quantity

    @invariant()
    def orders_stand_where_their_shipments_are(self):
        shipments = defaultdict(list)
        for order_id, status, shipped_at, delivered_at in Shipment.objects.values_list(
            "order_id", "status", "shipped_at", "delivered_at"
        ):
            shipments[order_id].append(status)
            if status in LEFT:
                assert shipped_at is not None
            if status == ShipmentStatus.DELIVERED:
                assert delivered_at is not None
        waiting = set(OrderLine.objects.filter(quantity_backordered__gt=0).values_list("order_id", flat=True))
        for order in Order.objects.all():
            statuses = shipments[order.pk]
            live = [s for s in statuses if s != ShipmentStatus.CANCELLED]
            where = f"{order.number} is {order.status}; shipments {statuses}; waiting {order.pk in waiting}"
            assert order.status in OrderStatus.values, where
            assert order.status != OrderStatus.PLACED, where  # placing always decides
            if order.status == OrderStatus.CANCELLED:
                assert order.cancelled_at is not None, where
                assert all(s == ShipmentStatus.CANCELLED for s in statuses), where
                continue
            assert all(s != ShipmentStatus.CANCELLED for s in statuses), where  # only a cancel cancels shipments
            if order.status == OrderStatus.ON_HOLD:
                assert order.hold_reason, where
                assert not any(s in LEFT for s in live), where
                continue
            if not live:
                assert order.status == OrderStatus.BACKORDERED, where
                assert order.pk in waiting, where
                continue
            target = min((ORDER_STATUS_OF_SHIPMENT[s] for s in live), key=PROGRESS.index)
            if order.pk in waiting:  # units still wait for stock, whatever has left already
                target = OrderStatus.BACKORDERED
            assert order.status == target, where
            if order.status == OrderStatus.DELIVERED:
                assert order.delivered_at is not None, where


class ServicesKeepTheBooks(TestCase):
    def test_any_sequence_of_services_keeps_every_invariant(self):
        run_state_machine_as_test(
            OrderBooks,
            settings=settings(
                max_examples=12,
                stateful_step_count=20,
                deadline=None,
                derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )


class FoundByTheStateMachine(TestCase):
    """Sequences the machine found that broke a rule, kept as plain tests so they never come back."""

    def test_an_order_with_a_parcel_in_exception_cannot_be_cancelled(self):
        """Two parcels: one left and the carrier reported an exception, one still on the shelf."""
        channel, _ = factories.channel_with_key("web")
        main = factories.LocationFactory(code="MAIN", priority=1)
        east = factories.LocationFactory(code="EAST", priority=2)
        channel.locations.add(main, east)
        factories.stock(factories.ProductFactory(sku="A"), main, 5)
        factories.stock(factories.ProductFactory(sku="B"), east, 5)
        order = factories.place(channel, "X-1", [("A", 2), ("B", 1)])
        left, waiting = order.shipments.order_by("location__priority")
        fulfilment.shipment_ship(shipment=left, carrier="ups", tracking_number="1Z", actor="t")
        fulfilment.shipment_carrier_status(shipment=left, to=ShipmentStatus.EXCEPTION, actor="carrier:test")
        assert Order.objects.get(pk=order.pk).status == OrderStatus.RECEIVED  # it stands at the pending parcel
        with pytest.raises(DomainError):
            cancel_order(order=order, reason="too late", actor="t")
        assert Order.objects.get(pk=order.pk).status == OrderStatus.RECEIVED
        assert Shipment.objects.get(pk=waiting.pk).status == ShipmentStatus.PENDING
        assert StockItem.objects.get(product__sku="B").reserved == 1
