"""``manage.py seed_demo``: a realistic back office on first start, and a second run creates nothing."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import F, Sum
from django.utils import timezone

from channels_app.models import ChannelKey, SalesChannel, key_digest
from inventory.models import Location, Product, StockItem
from orders.models import Order, OrderEvent, OrderStatus, Shipment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_builds_a_business_and_a_second_run_creates_nothing(client):
    first = seed()
    counts = row_counts()
    second = seed()
    assert row_counts() == counts
    assert "nothing created" in second

    # Channels, each with a key printed once (and only on the run that made it).
    assert set(SalesChannel.objects.values_list("code", flat=True)) >= {"webstore", "amazon", "phone", "wholesale"}
    printed = re.findall(r"Channel (\w+): API key (ck_\S+)", first)
    assert len(printed) == SalesChannel.objects.count() == ChannelKey.objects.count()
    for code, raw in printed:
        assert ChannelKey.objects.get(channel__code=code).digest == key_digest(raw)
    assert "ck_" not in second

    # Locations of every kind, with coordinates; own warehouses have bins.
    assert set(Location.objects.values_list("kind", flat=True)) == set(Location.Kind.values)
    assert not Location.objects.filter(latitude__isnull=True).exists()
    own = StockItem.objects.filter(location__kind=Location.Kind.OWN)
    assert own.exists()
    assert not own.filter(bin="").exists()

    # 50+ products with stock, and the ledger adds up to on hand on every row.
    assert Product.objects.count() >= 50
    assert Product.objects.filter(stock_items__on_hand__gt=0).distinct().count() >= 50
    for item in StockItem.objects.annotate(ledger=Sum("movements__quantity")):
        assert item.ledger == item.on_hand, item
    assert not StockItem.objects.filter(reserved__gt=F("on_hand")).exists()

    # A few hundred orders in every status but the transient ``placed``, as the command reports.
    assert Order.objects.count() >= 200
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == set(OrderStatus.values) - {OrderStatus.PLACED}
    reported = dict(re.findall(r"(\w+)=(\d+)", second.split("Orders by status:")[1]))
    assert {status: int(n) for status, n in reported.items()} == {
        status: Order.objects.filter(status=status).count() for status in statuses
    }
    assert Order.objects.filter(status=OrderStatus.ON_HOLD, payment_status=Order.PaymentStatus.PENDING).exists()
    assert Order.objects.values("channel").distinct().count() == SalesChannel.objects.count()

    # History over the last ~90 days, with timestamps that agree with each other.
    now = timezone.now()
    oldest = Order.objects.order_by("placed_at").first().placed_at
    assert 60 <= (now - oldest).days <= 91
    assert not OrderEvent.objects.filter(at__gt=now).exists()
    assert not Order.objects.filter(promised_delivery_date__isnull=True).exists()
    for order in Order.objects.prefetch_related("events")[:60]:
        placed = next(e for e in order.events.all() if e.type == "placed")
        assert order.placed_at <= placed.at <= order.placed_at + timezone.timedelta(minutes=5)
    for shipment in Shipment.objects.filter(status=Shipment.Status.DELIVERED).select_related("order"):
        assert shipment.order.placed_at < shipment.shipped_at < shipment.delivered_at <= now
    assert Shipment.objects.filter(status=Shipment.Status.PACKED, packed_at__isnull=False).exists()
    # The seeded past is not waiting in the outbox to e-mail customers about it.
    assert not OrderEvent.objects.filter(dispatched_at__isnull=True).exists()

    # The printed demo login works.
    assert "Demo login: admin / admin" in first
    signed_in = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": "admin"})
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/admin/"
    assert client.get("/admin/orders/order/").status_code == 200
