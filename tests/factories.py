"""Test data: factories for rows, services for anything with rules."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from channels_app.models import SalesChannel
from channels_app.services import channel_key_create
from inventory.apikeys import staff_token_create
from inventory.models import Location, Product, StockItem
from inventory.services import stock_receive
from orders import services as order_services


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests-123")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesChannel
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"chan{n}")
    name = factory.LazyAttribute(lambda c: f"Channel {c.code}")
    kind = SalesChannel.Kind.WEB_STORE
    currency = "USD"


def staff_token(user) -> str:
    """A raw staff API token for ``user`` (only its digest is stored).

    Marked as used just now, so the first request does not write ``last_used_at``
    and query counts stay those of the view (tests/test_security.py covers the write).
    """
    token, raw = staff_token_create(user=user)
    type(token).objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return raw


def channel_with_key(code: str = "webstore", **kwargs) -> tuple[SalesChannel, str]:
    channel = ChannelFactory(code=code, **kwargs)
    _, raw = channel_key_create(channel=channel)
    return channel, raw


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.LazyAttribute(lambda p: f"Product {p.sku}")
    price = Decimal("19.90")
    cost = Decimal("8.00")
    weight_grams = 300


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"LOC{n}")
    name = factory.LazyAttribute(lambda loc: f"Warehouse {loc.code}")
    kind = Location.Kind.OWN
    priority = 10
    country = "US"


def stock(product: Product, location: Location, on_hand: int, bin: str = "") -> StockItem:
    """Receive ``on_hand`` units through the ledger, as a real receipt would."""
    if on_hand:
        stock_receive(product=product, location=location, quantity=on_hand, reference="test", actor="test")
    item = StockItem.objects.get(product=product, location=location)
    if bin:
        item.bin = bin
        item.save(update_fields=["bin"])
    return item


def order_row(channel, customer, external_id: str, **fields):
    """An unsaved order row with a stored order's required fields (bulk-insert tests build their own rows)."""
    from datetime import UTC, datetime

    from orders.models import Order

    values = {
        "placed_at": datetime(2026, 11, 20, 14, 3, tzinfo=UTC),
        "currency": "USD",
        "ship_name": "A Buyer",
        "ship_line1": "1 Main St",
        "ship_city": "Springfield",
        "ship_postal_code": "62701",
        "ship_country": "US",
        "subtotal": Decimal("9.90"),
        "total": Decimal("9.90"),
        "fingerprint": external_id,
    }
    return Order(channel=channel, customer=customer, external_id=external_id, **{**values, **fields})


def order_payload(external_id: str = "WEB-10023", lines=None, **overrides) -> dict:
    payload = {
        "external_id": external_id,
        "placed_at": "2026-11-20T14:03:00Z",
        "currency": "USD",
        "customer": {
            "email": "ana@example.com",
            "name": "Ana Silva",
            "phone": "+1 555 0100",
            "kind": "consumer",
        },
        "shipping_address": {
            "name": "Ana Silva",
            "line1": "1 Main St",
            "line2": "",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62701",
            "country": "US",
        },
        "lines": lines if lines is not None else [{"sku": "TEE-RED-M", "quantity": 2, "unit_price": "19.90"}],
        "shipping_method": "standard",
        "payment_status": "paid",
        "promised_delivery_date": "2026-11-25",
        "notes": "",
    }
    payload.update(overrides)
    return payload


def order_input(external_id: str = "EXT-1", lines: list[tuple[str, int]] = (("TEE-RED-M", 1),), **kw):
    return order_services.OrderInput(
        external_id=external_id,
        customer=order_services.CustomerInput(email=kw.pop("email", "ana@example.com"), name="Ana"),
        shipping_address=order_services.AddressInput(
            name="Ana", line1="1 Main St", city="Springfield", region="IL", postal_code="62701", country="US"
        ),
        lines=[order_services.LineInput(sku=sku, quantity=q) for sku, q in lines],
        **kw,
    )


def place(channel, external_id="EXT-1", lines=(("TEE-RED-M", 1),), **kw):
    order, _ = order_services.place_order(channel=channel, data=order_input(external_id, lines, **kw), actor="test")
    return order
