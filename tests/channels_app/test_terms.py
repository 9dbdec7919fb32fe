"""B2B and B2C terms at placement (channels_app.terms): price lists, quantity breaks, payment terms, credit limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_app.models import CustomerTerms, PriceList, PriceListItem
from channels_app.terms import open_balance, price_for
from orders import services
from orders.models import Customer, Order
from tests import factories

pytestmark = pytest.mark.django_db

PLACED = datetime(2026, 11, 20, 14, 3, tzinfo=UTC)
BUYER = "buyer@corp.example"


@pytest.fixture
def tee(warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M", price=Decimal("19.90"))
    factories.stock(product, warehouse, 1000)
    return product


@pytest.fixture
def business():
    return Customer.objects.create(email=BUYER, name="Corp", kind=Customer.Kind.BUSINESS)


def price_list(code: str, product, *breaks: tuple[int, str], active: bool = True) -> PriceList:
    plist = PriceList.objects.create(code=code, name=code, active=active)
    for min_quantity, price in breaks:
        PriceListItem.objects.create(price_list=plist, product=product, min_quantity=min_quantity, unit_price=price)
    return plist


def place(channel, external_id: str, quantity: int = 1, *, email: str = BUYER, unit_price=None, **kw) -> Order:
    data = services.OrderInput(
        external_id=external_id,
        customer=services.CustomerInput(email=email, kind=kw.pop("kind", Customer.Kind.BUSINESS)),
        shipping_address=services.AddressInput(
            name="Corp", line1="1 Main St", city="Springfield", region="IL", postal_code="62701", country="US"
        ),
        lines=[services.LineInput(sku="TEE-RED-M", quantity=quantity, unit_price=unit_price)],
        placed_at=PLACED,
        **kw,
    )
    order, _ = services.place_order(channel=channel, data=data, actor="test")
    order.refresh_from_db()
    return order


def unit_price(order: Order) -> Decimal:
    return order.lines.get().unit_price


# --- Prices -------------------------------------------------------------------------------------------------------


def _queries_to_place(channel, warehouse, lists: tuple[PriceList, PriceList], n: int, tag: str) -> tuple[int, list]:
    products = [factories.ProductFactory(sku=f"{tag}-{i:02d}", price=Decimal("9.00")) for i in range(n)]
    for k, product in enumerate(products):
        factories.stock(product, warehouse, 10)
        PriceListItem.objects.create(price_list=lists[k % 2], product=product, min_quantity=1, unit_price="5.00")
        PriceListItem.objects.create(price_list=lists[k % 2], product=product, min_quantity=3, unit_price="4.00")
    data = services.OrderInput(
        external_id=f"EXT-{tag}",
        customer=services.CustomerInput(email=BUYER, kind=Customer.Kind.BUSINESS),
        shipping_address=services.AddressInput(
            name="Corp", line1="1 Main St", city="Springfield", region="IL", postal_code="62701", country="US"
        ),
        lines=[services.LineInput(sku=p.sku, quantity=1 + k % 4) for k, p in enumerate(products)],
        placed_at=PLACED,
    )
    with CaptureQueriesContext(connection) as queries:
        order, _ = services.place_order(channel=channel, data=data, actor="test")
    prices = list(order.lines.order_by("pk").values_list("unit_price", flat=True))
    return len(queries), prices


def test_lines_priced_from_lists_cost_one_query_whatever_their_number(channel, warehouse, business):
    """The customer's list and the channel's are read once for all the lines (no query a line)."""
    channel.price_list = PriceList.objects.create(code="chan", name="chan")
    channel.save()
    CustomerTerms.objects.create(customer=business, price_list=PriceList.objects.create(code="cust", name="cust"))
    lists = (channel.price_list, business.terms.price_list)
    one, _ = _queries_to_place(channel, warehouse, lists, 1, "ONE")
    twenty, prices = _queries_to_place(channel, warehouse, lists, 20, "TWENTY")
    assert one == twenty, (one, twenty)
    assert prices == [Decimal("5.00") if 1 + k % 4 < 3 else Decimal("4.00") for k in range(20)]  # each its break


def test_no_list_means_the_catalogue_price(channel, tee):
    assert unit_price(place(channel, "P-1")) == Decimal("19.90")


def test_channel_list_beats_the_catalogue(channel, tee):
    channel.price_list = price_list("wholesale", tee, (1, "15.00"))
    channel.save()
    assert unit_price(place(channel, "P-1")) == Decimal("15.00")


def test_customer_list_beats_the_channels(channel, tee, business):
    channel.price_list = price_list("wholesale", tee, (1, "15.00"))
    channel.save()
    CustomerTerms.objects.create(customer=business, price_list=price_list("corp", tee, (1, "12.50")))
    order = place(channel, "P-1", 3)
    assert (unit_price(order), order.subtotal, order.total) == (Decimal("12.50"), Decimal("37.50"), Decimal("37.50"))
    # Another customer of the same channel pays the channel's price.
    assert unit_price(place(channel, "P-2", email="other@corp.example")) == Decimal("15.00")


def test_a_price_sent_on_the_line_is_kept(channel, tee, business):
    CustomerTerms.objects.create(customer=business, price_list=price_list("corp", tee, (1, "12.50")))
    assert unit_price(place(channel, "P-1", unit_price=Decimal("18.00"))) == Decimal("18.00")


def test_customer_list_without_the_product_falls_back_to_the_channels(channel, tee, business):
    other = factories.ProductFactory(sku="MUG")
    channel.price_list = price_list("wholesale", tee, (1, "15.00"))
    channel.save()
    CustomerTerms.objects.create(customer=business, price_list=price_list("corp", other, (1, "3.00")))
    assert unit_price(place(channel, "P-1")) == Decimal("15.00")


def test_inactive_list_prices_nothing(channel, tee):
    channel.price_list = price_list("old", tee, (1, "9.00"), active=False)
    channel.save()
    assert unit_price(place(channel, "P-1")) == Decimal("19.90")


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [(1, "15.00"), (9, "15.00"), (10, "14.00"), (49, "14.00"), (50, "12.00"), (500, "12.00")],
)
def test_quantity_breaks_take_the_largest_break_reached(channel, tee, quantity, expected):
    channel.price_list = price_list("wholesale", tee, (1, "15.00"), (10, "14.00"), (50, "12.00"))
    channel.save()
    assert unit_price(place(channel, f"Q-{quantity}", quantity)) == Decimal(expected)


def test_below_the_first_break_the_next_list_answers(channel, tee, business):
    channel.price_list = price_list("wholesale", tee, (1, "15.00"))
    channel.save()
    CustomerTerms.objects.create(customer=business, price_list=price_list("corp", tee, (100, "10.00")))
    assert unit_price(place(channel, "Q-5", 5)) == Decimal("15.00")
    assert unit_price(place(channel, "Q-100", 100)) == Decimal("10.00")


# --- Payment terms ------------------------------------------------------------------------------------------------


def test_net_30_customer_gets_an_invoice_due_date(channel, tee, business):
    CustomerTerms.objects.create(customer=business, payment_terms_days=30)
    order = place(channel, "N-1")
    assert order.invoice_due_at == PLACED + timedelta(days=30) == datetime(2026, 12, 20, 14, 3, tzinfo=UTC)


def test_customer_terms_beat_the_channels(channel, tee, business):
    channel.payment_terms_days = 60
    channel.save()
    assert place(channel, "N-1").invoice_due_at == PLACED + timedelta(days=60)
    CustomerTerms.objects.create(customer=business, payment_terms_days=15)
    assert place(channel, "N-2").invoice_due_at == PLACED + timedelta(days=15)


def test_consumers_and_prepaid_business_have_no_due_date(channel, tee, business):
    assert place(channel, "N-1").invoice_due_at is None  # no terms anywhere: prepaid
    channel.payment_terms_days = 30
    channel.save()
    consumer = place(channel, "N-2", email="ana@example.com", kind=Customer.Kind.CONSUMER)
    assert consumer.invoice_due_at is None


def test_a_prepaid_customer_on_a_net_30_channel_is_due_on_placement(channel, tee, business):
    channel.payment_terms_days = 30
    channel.save()
    CustomerTerms.objects.create(customer=business, payment_terms_days=0)
    assert place(channel, "N-1").invoice_due_at == PLACED
    assert CustomerTerms.objects.get().get_payment_terms_days_display() == "Prepaid"


def test_due_date_is_in_the_api_answer(staff_api, channel, tee, business):
    CustomerTerms.objects.create(customer=business, payment_terms_days=30)
    order = place(channel, "N-1")
    body = staff_api.get(f"/api/v1/orders/{order.pk}/").json()
    assert body["invoice_due_at"] == "2026-12-20T14:03:00Z"


# --- Credit limit -------------------------------------------------------------------------------------------------


@pytest.fixture
def limit_100(business):
    return CustomerTerms.objects.create(customer=business, credit_limit=Decimal("100.00"), payment_terms_days=30)


def test_order_that_reaches_the_limit_exactly_is_received(channel, tee, limit_100):
    order = place(channel, "C-1", 5, unit_price=Decimal("20.00"), payment_status="pending")  # balance 100.00
    assert (order.status, order.hold_reason) == (Order.Status.RECEIVED, "")


def test_one_cent_over_the_limit_is_held(channel, tee, limit_100):
    place(channel, "C-1", 1, unit_price=Decimal("99.99"), payment_status="pending")
    order = place(channel, "C-2", 1, unit_price=Decimal("0.02"), payment_status="pending")  # balance 100.01
    assert (order.status, order.hold_reason) == (Order.Status.ON_HOLD, "credit_limit")
    event = order.events.get(type="credit_limit_exceeded")
    assert event.data == {"open_balance": "100.01", "credit_limit": "100.00", "currency": "USD"}
    assert order.lines.get().quantity_reserved == 1


def test_what_counts_in_the_open_balance(channel, tee, business, limit_100):
    unpaid = place(channel, "C-1", 1, unit_price=Decimal("30.00"), payment_status="pending")
    place(channel, "C-2", 1, unit_price=Decimal("500.00"))  # paid up front: no credit taken, not held
    cancelled = place(channel, "C-3", 1, unit_price=Decimal("40.00"), payment_status="pending")
    services.cancel_order(order=cancelled, reason="test", actor="test")
    held = place(channel, "C-4", 1, unit_price=Decimal("90.00"), payment_status="pending")  # 30 + 90 > 100
    assert held.hold_reason == "credit_limit"
    # Held for credit: not granted, so not in the balance; another currency is another balance.
    assert open_balance(customer=business, currency="USD") == Decimal("30.00")
    assert open_balance(customer=business, currency="EUR") == Decimal("0.00")
    services.order_payment_confirm(order=unpaid, actor="test")
    assert open_balance(customer=business, currency="USD") == Decimal("0.00")


def test_paid_order_is_never_held_for_credit(channel, tee, limit_100):
    order = place(channel, "C-1", 10, unit_price=Decimal("50.00"))
    assert order.status == Order.Status.RECEIVED
    assert not order.events.filter(type="credit_limit_exceeded").exists()


def test_order_in_another_currency_than_the_limit_is_held(channel, tee, limit_100):
    order = place(channel, "C-1", 1, unit_price=Decimal("1.00"), payment_status="pending", currency="EUR")
    assert order.hold_reason == "credit_limit"
    assert "EUR" in order.events.get(type="credit_limit_exceeded").data["detail"]


def test_consumers_have_no_credit_limit_check(channel, tee):
    order = place(channel, "C-1", 1, email="ana@example.com", kind=Customer.Kind.CONSUMER, unit_price=Decimal("1"))
    assert order.status == Order.Status.RECEIVED


def test_release_of_a_credit_hold_by_a_manager_is_not_undone_by_the_recheck(channel, tee, limit_100):
    place(channel, "C-1", 1, unit_price=Decimal("100.00"), payment_status="pending")
    held = place(channel, "C-2", 1, unit_price=Decimal("10.00"), payment_status="pending")
    released = services.order_release_hold(order=held, actor="user:boss", note="known customer")
    assert (released.status, released.hold_reason) == (Order.Status.RECEIVED, "")
    assert held.events.get(type="received").data == {"released_hold": "credit_limit", "note": "known customer"}
    assert held.invoice_due_at == PLACED + timedelta(days=30)


# --- Cost ---------------------------------------------------------------------------------------------------------


def test_no_list_costs_no_query(channel, tee, django_assert_num_queries):
    consumer = Customer.objects.create(email="ana@example.com")
    with django_assert_num_queries(0):
        assert price_for(channel=channel, customer=consumer, product=tee, quantity=1) is None


def test_business_terms_are_read_once_per_placement(channel, tee, business):
    mugs = [factories.ProductFactory(sku=f"MUG-{i}") for i in range(3)]
    CustomerTerms.objects.create(
        customer=business, price_list=price_list("corp", tee, (1, "12.50")), credit_limit=10**6
    )
    data = services.OrderInput(
        external_id="COST",
        customer=services.CustomerInput(email=BUYER, kind=Customer.Kind.BUSINESS),
        shipping_address=services.AddressInput(
            name="Corp", line1="1 Main St", city="Springfield", region="IL", postal_code="62701", country="US"
        ),
        lines=[services.LineInput(sku=p.sku, quantity=1) for p in [tee, *mugs]],
        payment_status="pending",
    )
    with CaptureQueriesContext(connection) as queries:
        order, _ = services.place_order(channel=channel, data=data, actor="test")
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "channels_app_customerterms"' in q["sql"]]
    assert len(reads) == 1  # the lines' prices and the credit check share one read
    assert {line.sku: line.unit_price for line in order.lines.all()} == {
        "TEE-RED-M": Decimal("12.50"),
        **{m.sku: m.price for m in mugs},
    }
