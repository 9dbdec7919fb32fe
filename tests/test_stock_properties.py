"""Property: whatever sequence of place / cancel / adjust / ship / receive / transfer / count runs,
after every step no stock row has negative availability, ``reserved`` equals the open
reservations (units on shipment lines of open shipments) and the ledger sums to ``on_hand``.
"""

from __future__ import annotations

from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from inventory import services as stock_services
from inventory.errors import DomainError
from inventory.models import StockItem
from inventory.selectors import stock_drift
from orders import fulfilment
from orders.models import Order, Shipment, ShipmentLine
from orders.services import cancel_order
from tests import factories

SKUS = ["A", "B"]
LOCS = ["MAIN", "EAST", "FAR"]  # FAR does not serve the channel

sku = st.sampled_from(SKUS)
loc = st.sampled_from(LOCS)
qty = st.integers(min_value=1, max_value=6)
pick = st.integers(min_value=0, max_value=20)

ops = st.one_of(
    st.tuples(st.just("place"), st.lists(st.tuples(sku, qty), min_size=1, max_size=2, unique_by=lambda x: x[0])),
    st.tuples(st.just("cancel"), pick),
    st.tuples(st.just("adjust"), sku, loc, st.integers(min_value=-6, max_value=6).filter(bool)),
    st.tuples(st.just("ship"), pick),
    st.tuples(st.just("receive"), sku, loc, qty),
    st.tuples(st.just("transfer"), sku, loc, loc, qty),
    st.tuples(st.just("count"), sku, loc, st.integers(min_value=0, max_value=12)),
)


class StockPropertyTest(TestCase):
    def setUp(self):
        self.channel, _ = factories.channel_with_key("web")
        self.locations = {
            "MAIN": factories.LocationFactory(code="MAIN", priority=1),
            "EAST": factories.LocationFactory(code="EAST", priority=2),
            "FAR": factories.LocationFactory(code="FAR", priority=3),
        }
        self.channel.locations.add(self.locations["MAIN"], self.locations["EAST"])
        self.products = {s: factories.ProductFactory(sku=s) for s in SKUS}
        factories.stock(self.products["A"], self.locations["MAIN"], 3)
        factories.stock(self.products["B"], self.locations["EAST"], 2)
        self.n = 0

    def _orders(self) -> list[Order]:
        return list(Order.objects.order_by("pk"))

    def apply(self, op):
        kind = op[0]
        try:
            with self.captureOnCommitCallbacks(execute=True):
                if kind == "place":
                    self.n += 1
                    factories.place(self.channel, f"P{self.n}", lines=op[1])
                elif kind == "cancel":
                    orders = self._orders()
                    if orders:
                        cancel_order(order=orders[op[1] % len(orders)], reason="prop", actor="test")
                elif kind == "adjust":
                    stock_services.stock_adjust(sku=op[1], location_code=op[2], delta=op[3], reason="p", actor="t")
                elif kind == "ship":
                    pending = list(Shipment.objects.filter(status="pending").order_by("pk"))
                    if pending:
                        fulfilment.shipment_ship(
                            shipment=pending[op[1] % len(pending)], carrier="ups", tracking_number=None, actor="t"
                        )
                elif kind == "receive":
                    stock_services.stock_receive(
                        product=self.products[op[1]],
                        location=self.locations[op[2]],
                        quantity=op[3],
                        reference="prop",
                        actor="t",
                    )
                elif kind == "transfer":
                    stock_services.stock_transfer(
                        sku=op[1], from_location=op[2], to_location=op[3], quantity=op[4], reason="p", actor="t"
                    )
                elif kind == "count":
                    stock_services.stock_count(sku=op[1], location_code=op[2], counted=op[3], reason="p", actor="t")
        except DomainError:
            pass  # a rule said no (below reserved, illegal transition...): nothing may have changed

    def check(self, step):
        held = {
            row["stock_item_id"]: row["units"]
            for row in ShipmentLine.objects.filter(shipment__status__in=Shipment.OPEN_STATUSES)
            .values("stock_item_id")
            .annotate(units=Sum("quantity"))
            .order_by()
        }
        for item in StockItem.objects.annotate(ledger=Sum("movements__quantity")):
            where = f"after {step}: {item.product_id}@{item.location_id}"
            assert item.on_hand - item.reserved >= 0, where
            assert item.reserved >= 0, where
            assert item.reserved == held.get(item.pk, 0), where
            assert item.on_hand == (item.ledger or 0), where
        assert stock_drift() == []
        for order in Order.objects.prefetch_related("lines"):
            for line in order.lines.all():
                assert line.quantity_reserved + line.quantity_backordered + line.quantity_shipped <= line.quantity

    @settings(
        max_examples=50,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(steps=st.lists(ops, min_size=1, max_size=15))
    def test_stock_never_lies(self, steps):
        self.check("setup")
        for step in steps:
            self.apply(step)
            self.check(step)
