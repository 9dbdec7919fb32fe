"""orders.services.place_order: validation, reservation, sourcing, backorders, idempotency, query cost."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import StockItem
from orders import services
from orders.errors import IdempotencyConflict, InvalidInput
from orders.models import Customer, Order, OrderEvent, OrderLine, Shipment
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee(warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M", name="Tee red M", price=Decimal("19.90"))
    factories.stock(product, warehouse, 5)
    return product


def _stock(product, location) -> tuple[int, int]:
    item = StockItem.objects.get(product=product, location=location)
    return item.on_hand, item.reserved


def _errors(exc_info) -> list[tuple[str, str]]:
    return [(e.code, e.attr) for e in exc_info.value.items]


def test_order_with_stock_is_received_reserved_and_sourced(channel, warehouse, tee):
    order, created = services.place_order(
        channel=channel, data=factories.order_input("EXT-1", [("TEE-RED-M", 2)]), actor="channel:webstore"
    )

    assert created is True
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    assert order.received_at is not None
    assert order.number == f"SO-{order.pk:06d}"
    line = order.lines.get()
    assert (line.quantity_reserved, line.quantity_backordered, line.quantity_filled_at_receipt) == (2, 0, 2)
    assert line.unit_price == Decimal("19.90")  # the product's price when none is sent
    assert order.subtotal == order.total == Decimal("39.80")
    assert order.currency == channel.currency
    shipment = order.shipments.get()
    assert (shipment.location, shipment.fulfillment, shipment.status) == (warehouse, "own", "pending")
    assert [(sl.order_line_id, sl.quantity) for sl in shipment.lines.all()] == [(line.pk, 2)]
    assert _stock(tee, warehouse) == (5, 2)
    events = list(order.events.values_list("type", "actor"))
    assert events[0] == ("placed", "channel:webstore")
    assert events[-1] == ("received", "channel:webstore")
    assert {actor for _, actor in events} == {"channel:webstore"}


def test_first_location_by_priority_that_covers_the_line_is_chosen(channel, warehouse, tee):
    backup = factories.LocationFactory(code="BACKUP", priority=5)
    preferred = factories.LocationFactory(code="NEAR", priority=0)
    channel.locations.add(backup, preferred)
    factories.stock(tee, backup, 10)
    factories.stock(tee, preferred, 1)  # priority 0 but cannot cover 3 units

    order = factories.place(channel, lines=[("TEE-RED-M", 3)])

    assert order.shipments.get().location == warehouse  # priority 1 covers 3 of its 5
    assert _stock(tee, preferred) == (1, 0)
    assert _stock(tee, backup) == (10, 0)


def test_locations_that_do_not_serve_the_channel_are_ignored(channel, warehouse):
    product = factories.ProductFactory(sku="MUG")
    elsewhere = factories.LocationFactory(code="OTHER", priority=0)  # not linked to the channel
    factories.stock(product, elsewhere, 50)

    order = factories.place(channel, lines=[("MUG", 1)])

    order.refresh_from_db()
    assert order.status == Order.Status.BACKORDERED
    assert not order.shipments.exists()
    assert _stock(product, elsewhere) == (50, 0)


def test_short_stock_is_split_across_locations_and_the_rest_backordered(channel, warehouse, tee):
    third_party = factories.LocationFactory(code="3PL", priority=5, kind="third_party")
    channel.locations.add(third_party)
    factories.stock(tee, third_party, 2)

    order = factories.place(channel, lines=[("TEE-RED-M", 10)])

    order.refresh_from_db()
    assert order.status == Order.Status.BACKORDERED
    line = order.lines.get()
    assert (line.quantity_reserved, line.quantity_backordered) == (7, 3)
    shipments = {
        s.location.code: (s.fulfillment, sum(sl.quantity for sl in s.lines.all())) for s in order.shipments.all()
    }
    assert shipments == {"MAIN": ("own", 5), "3PL": ("third_party", 2)}
    assert _stock(tee, warehouse) == (5, 5)
    backordered = order.events.get(type="backordered")
    assert backordered.data == {"backordered": {"TEE-RED-M": 3}}


def test_placing_never_fails_for_lack_of_stock(channel, warehouse):
    factories.ProductFactory(sku="NONE-LEFT")

    order = factories.place(channel, lines=[("NONE-LEFT", 4)])

    order.refresh_from_db()
    assert order.status == Order.Status.BACKORDERED
    assert order.lines.get().quantity_backordered == 4


def test_pending_payment_puts_a_consumer_order_on_hold_but_not_a_business_one(channel, warehouse, tee):
    consumer = factories.place(channel, "EXT-C", payment_status="pending")
    business_input = replace(
        factories.order_input("EXT-B", payment_status="pending"),
        customer=services.CustomerInput(email="buyer@corp.example", kind="business"),
    )
    business, _ = services.place_order(channel=channel, data=business_input, actor="test")

    consumer.refresh_from_db()
    business.refresh_from_db()
    assert (consumer.status, consumer.hold_reason) == (Order.Status.ON_HOLD, "payment_pending")
    assert business.status == Order.Status.RECEIVED
    assert consumer.lines.get().quantity_reserved == 1  # held orders keep their stock


def test_same_payload_again_returns_the_existing_order_and_creates_nothing(channel, warehouse, tee):
    data = factories.order_input("EXT-1", [("TEE-RED-M", 2)])
    first, _ = services.place_order(channel=channel, data=data, actor="test")
    counts = (Order.objects.count(), OrderLine.objects.count(), Shipment.objects.count(), OrderEvent.objects.count())

    again, created = services.place_order(
        channel=channel, data=factories.order_input("EXT-1", [("TEE-RED-M", 2)]), actor="test"
    )

    assert (again.pk, created) == (first.pk, False)
    assert (
        Order.objects.count(),
        OrderLine.objects.count(),
        Shipment.objects.count(),
        OrderEvent.objects.count(),
    ) == counts
    assert _stock(tee, warehouse) == (5, 2)


def test_same_external_id_with_other_content_is_an_idempotency_conflict(channel, warehouse, tee):
    factories.place(channel, "EXT-1", [("TEE-RED-M", 2)])

    with pytest.raises(IdempotencyConflict) as exc_info:
        factories.place(channel, "EXT-1", [("TEE-RED-M", 3)])

    assert _errors(exc_info) == [("idempotency_conflict", "external_id")]
    assert Order.objects.count() == 1
    assert _stock(tee, warehouse) == (5, 2)


def test_same_external_id_from_another_channel_is_another_order(channel, warehouse, tee):
    other, _ = factories.channel_with_key("marketplace")
    other.locations.add(warehouse)

    first = factories.place(channel, "EXT-1")
    second = factories.place(other, "EXT-1")

    assert first.pk != second.pk


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([("NOPE", 1)], [("unknown_sku", "lines.0.sku")]),
        ([("TEE-RED-M", 1), ("OLD", 1)], [("inactive_sku", "lines.1.sku")]),
        ([("TEE-RED-M", 1), ("TEE-RED-M", 2)], [("duplicate_sku", "lines.1.sku")]),
        ([("TEE-RED-M", 0)], [("invalid_quantity", "lines.0.quantity")]),
        ([("TEE-RED-M", -1)], [("invalid_quantity", "lines.0.quantity")]),
        ([("TEE-RED-M", 100_001)], [("invalid_quantity", "lines.0.quantity")]),
        ([], [("invalid_line_count", "lines")]),
    ],
)
def test_bad_lines_are_refused_with_the_field_named(channel, warehouse, tee, lines, expected):
    factories.ProductFactory(sku="OLD", active=False)

    with pytest.raises(InvalidInput) as exc_info:
        factories.place(channel, lines=lines)

    assert _errors(exc_info) == expected
    assert not Order.objects.exists()
    assert _stock(tee, warehouse) == (5, 0)


def test_more_than_500_lines_are_refused(channel, warehouse):
    skus = [f"P{i:03d}" for i in range(501)]
    for sku in skus:
        factories.ProductFactory(sku=sku)

    with pytest.raises(InvalidInput) as exc_info:
        factories.place(channel, lines=[(sku, 1) for sku in skus])

    assert _errors(exc_info) == [("invalid_line_count", "lines")]


def test_bad_country_negative_price_and_long_external_id_are_refused_together(channel, warehouse, tee):
    data = replace(
        factories.order_input("X" * 65),
        shipping_address=services.AddressInput(
            name="Ana", line1="1 Main St", city="Springfield", postal_code="1", country="XX"
        ),
        lines=[services.LineInput(sku="TEE-RED-M", quantity=1, unit_price=Decimal("-0.01"))],
    )

    with pytest.raises(InvalidInput) as exc_info:
        services.place_order(channel=channel, data=data, actor="test")

    assert _errors(exc_info) == [
        ("invalid_length", "external_id"),
        ("invalid_country", "shipping_address.country"),
        ("negative_price", "lines.0.unit_price"),
    ]


def test_a_customer_kind_or_payment_status_outside_their_choices_is_refused_by_the_service_itself(channel, tee):
    """The API's serializer refuses them first; an import or the admin reaches the service with what it parsed."""
    data = replace(
        factories.order_input("EXT-K"),
        customer=services.CustomerInput(email="ana@example.com", name="Ana", kind="robot"),
        payment_status="maybe",
    )

    with pytest.raises(InvalidInput) as exc_info:
        services.place_order(channel=channel, data=data, actor="test")

    assert _errors(exc_info) == [("invalid_choice", "customer.kind"), ("invalid_choice", "payment_status")]
    for kind, status in (("business", "pending"), ("consumer", "paid")):
        ok = replace(
            data,
            external_id=f"EXT-{kind}",
            customer=replace(data.customer, kind=kind),
            payment_status=status,
        )
        assert services.place_order(channel=channel, data=ok, actor="test")[1] is True


def test_an_existing_customer_is_reused_by_email_case_insensitively(channel, warehouse, tee):
    factories.place(channel, "EXT-1", email="Ana@Example.com")
    factories.place(channel, "EXT-2", email="ana@example.com")

    assert Customer.objects.count() == 1
    assert Order.objects.filter(customer__email="ana@example.com").count() == 2


# Savepoint in/out (the test's transaction), then on PostgreSQL two round trips (inventory.bulk): the
# reads (products, customer found or inserted, locations with their safety rules) with the stock lock and
# the new rows' keys, then every write (order with its status, lines, stock reserve, shipment, shipment
# lines, events). Elsewhere each of those statements on its own (the customer: a SELECT and, new here, its
# INSERT).
# channels_app.terms costs nothing here (a consumer, a channel without a price list); with lists, one
# look-up prices all the lines (tests/channels_app/test_terms.py pins 1 line = 20 lines).
PLACE_ORDER_QUERIES = 4 if connection.vendor == "postgresql" else 13


def _place_with_lines(channel, warehouse, n: int, tag: str) -> int:
    skus = [f"{tag}-{i:02d}" for i in range(n)]
    for sku in skus:
        factories.stock(factories.ProductFactory(sku=sku), warehouse, 3)
    data = factories.order_input(f"EXT-{tag}", [(sku, 2) for sku in skus], email=f"{tag}@example.com")
    with CaptureQueriesContext(connection) as ctx:
        order, created = services.place_order(channel=channel, data=data, actor="test")
    assert created
    assert order.lines.count() == n
    assert sum(order.lines.values_list("quantity_reserved", flat=True)) == 2 * n
    return len(ctx.captured_queries)


def test_placing_costs_the_same_queries_for_1_line_and_20_lines(channel, warehouse):
    one_line = _place_with_lines(channel, warehouse, 1, "ONE")
    twenty_lines = _place_with_lines(channel, warehouse, 20, "TWENTY")

    assert one_line == twenty_lines == PLACE_ORDER_QUERIES


def test_placing_costs_a_pinned_number_of_queries(channel, warehouse, tee, django_assert_num_queries):
    data = factories.order_input("EXT-PIN", [("TEE-RED-M", 1)], email="pin@example.com")
    with django_assert_num_queries(PLACE_ORDER_QUERIES):
        services.place_order(channel=channel, data=data, actor="test")


def test_an_order_reaches_the_outbox_as_one_task_after_commit(channel, tee, django_capture_on_commit_callbacks):
    from unittest import mock

    from orders import tasks

    with mock.patch.object(tasks.outbox_dispatch_task, "apply_async") as enqueued:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            order, _ = services.place_order(
                channel=channel, data=factories.order_input("EXT-OB", [("TEE-RED-M", 1)]), actor="t"
            )
        assert enqueued.call_count == 0  # nothing leaves before the commit
        for callback in callbacks:  # the commit
            callback()

    assert enqueued.call_count == 1  # one task for the whole commit, not one per event
    sent = enqueued.call_args.kwargs["kwargs"]["event_ids"]
    assert sent == list(order.events.order_by("id").values_list("id", flat=True))
    assert len(sent) >= 3  # placed, routed, received


def test_with_the_broker_down_the_order_stands_and_the_sweep_sends_it(channel, tee, django_capture_on_commit_callbacks):
    from unittest import mock

    from orders import outbox, tasks

    broker_down = mock.patch.object(tasks.outbox_dispatch_task, "apply_async", side_effect=ConnectionError("down"))
    with broker_down, django_capture_on_commit_callbacks(execute=True):
        order, created = services.place_order(
            channel=channel, data=factories.order_input("EXT-BD", [("TEE-RED-M", 1)]), actor="t"
        )

    assert created
    assert Order.objects.filter(pk=order.pk).exists()
    assert order.events.filter(dispatched_at__isnull=True).count() == order.events.count()
    assert outbox.dispatch_pending() == order.events.count()
    assert not order.events.filter(dispatched_at__isnull=True).exists()
    assert outbox.dispatch_many(event_ids=list(order.events.values_list("id", flat=True))) == 0  # never twice


def test_a_new_order_answers_from_the_rows_it_wrote(channel, warehouse, tee):
    """The API renders a placed order without reading it back; what it renders equals the stored order."""
    from orders.api.serializers import OrderSerializer
    from orders.selectors import order_list

    factories.stock(factories.ProductFactory(sku="MUG", price=Decimal("7.5")), warehouse, 1)
    data = factories.order_input("EXT-MEM", [("TEE-RED-M", 2), ("MUG", 3)])
    order, _ = services.place_order(channel=channel, data=data, actor="t")
    with CaptureQueriesContext(connection) as ctx:
        placed = OrderSerializer(order).data
    assert len(ctx.captured_queries) == 0  # everything it shows is at hand
    assert placed == OrderSerializer(order_list().get(pk=order.pk)).data
    assert placed["status"] == "backordered"
    assert placed["lines"][1]["quantity_backordered"] == 2
