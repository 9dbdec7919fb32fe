"""Changelists not pinned elsewhere cost the same queries for 1 row and for 20 (issue 8).

One builder per model adds one row the way the system would (services where
there is one), each row with its own related rows, so a foreign key read per
row shows up as a growing count. tests/test_query_budgets_coverage.py checks
that every registered admin is pinned here or in its app's tests.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels_app.models import CustomerTerms, PriceList, PriceListItem, WebhookMessage
from channels_app.pulls import connector_configure
from channels_app.services import channel_key_create
from channels_app.webhooks import webhook_endpoint_create
from inventory.models import ChannelStockRule, Location, RecurringPurchaseOrder, RecurringPurchaseOrderLine, Supplier
from orders import fulfilment
from orders.models import Customer, TrackingEvent
from orders.partners import partner_key_create, partner_save
from returns import services as returns
from returns.models import ReturnPolicy
from tests import factories

pytestmark = pytest.mark.django_db


class World:
    """A channel selling from MAIN, with a product enough for every order a builder places."""

    def __init__(self, channel, warehouse):
        self.channel, self.warehouse = channel, warehouse
        self.tee = factories.ProductFactory(sku="TEE", name="Tee")
        factories.stock(self.tee, warehouse, 500)

    def delivered_order(self, i: int):
        order = factories.place(self.channel, f"QB-{i}", [("TEE", 1)], email=f"qb{i}@example.com")
        shipment = order.shipments.get()
        fulfilment.shipment_ship(shipment=shipment, carrier="ups", tracking_number=f"1ZQB{i}", actor="test")
        fulfilment.shipment_deliver(shipment=shipment, actor="test")
        return order

    def closed_return(self, i: int, resolution: str):
        """A return of one tee: requested, approved, received (restocked) and closed with its refund or credit."""
        rma = returns.return_request(
            order=self.delivered_order(i),
            lines=[returns.ReturnLineInput("TEE", 1, "damaged")],
            resolution=resolution,
            actor="test",
        )
        returns.return_approve(rma=rma, actor="test")
        returns.return_receive(rma=rma, lines=[returns.ReceiveLineInput("TEE", 1, "restock")], actor="test")
        return returns.return_close(rma=rma, actor="test")


def _attempt_fields(i: int) -> dict:
    return {
        "user_agent": "pytest",
        "ip_address": f"10.0.0.{i + 1}",
        "username": f"intruder{i}",
        "http_accept": "text/html",
        "path_info": "/admin/login/",
    }


def _channel(i: int):
    return factories.ChannelFactory(code=f"qb{i}")


def _location(i: int, **kw):
    return factories.LocationFactory(code=f"QB{i}", **kw)


def _price_list(i: int) -> PriceList:
    price_list = PriceList.objects.create(code=f"list-{i}", name=f"List {i}")
    for sku in ("A", "B"):
        product = factories.ProductFactory(sku=f"PL{i}-{sku}")
        PriceListItem.objects.create(price_list=price_list, product=product, unit_price=Decimal("5.00"))
    return price_list


def _sales_channel(w: World, i: int):
    channel = _channel(i)
    channel.locations.add(w.warehouse, _location(i))
    channel_key_create(channel=channel)


def _recurring_order(w: World, i: int):
    standing = RecurringPurchaseOrder.objects.create(
        supplier=Supplier.objects.create(name=f"Supplier {i}", email=f"s{i}@example.com"),
        location=_location(i),
        interval_days=7,
        next_run_on=timezone.localdate() + timedelta(days=i),
    )
    RecurringPurchaseOrderLine.objects.create(template=standing, product=w.tee, quantity=10)


def _webhook_message(w: World, i: int):
    endpoint = webhook_endpoint_create(channel=_channel(i), url=f"https://hooks.example/{i}", events=["order.*"])
    WebhookMessage.objects.create(
        endpoint=endpoint,
        event_id=uuid.uuid4(),
        source_event_id=i,
        event_type="order.received",
        body="{}",
        next_attempt_at=timezone.now(),
    )


def _tracking_event(w: World, i: int):
    shipment = w.delivered_order(i).shipments.get()
    TrackingEvent.objects.create(
        shipment=shipment, key=f"k{i}", status="in_transit", mapped="in_transit", at=timezone.now(), message="Hub"
    )


def _location_row(w: World, i: int):
    location = _location(i)
    w.channel.locations.add(location)
    factories.stock(w.tee, location, 3)


def _customer_terms(w: World, i: int):
    customer = Customer.objects.create(email=f"buyer{i}@corp.example", name=f"Buyer {i}", kind=Customer.Kind.BUSINESS)
    CustomerTerms.objects.create(customer=customer, price_list=_price_list(i), payment_terms_days=30)


# The model's label -> how to add one row of it (``w`` is the World, ``i`` the row's number).
BUILDERS = {
    "auth.User": lambda w, i: factories.UserFactory(username=f"clerk{i}", is_staff=True),
    "auth.Group": lambda w, i: Group.objects.create(name=f"Team {i}"),
    "axes.AccessAttempt": lambda w, i: AccessAttempt.objects.create(
        **_attempt_fields(i), get_data="", post_data="", failures_since_start=i + 1
    ),
    "axes.AccessLog": lambda w, i: AccessLog.objects.create(**_attempt_fields(i), session_hash=f"h{i}"),
    "axes.AccessFailureLog": lambda w, i: AccessFailureLog.objects.create(**_attempt_fields(i), locked_out=i % 2 == 0),
    "channels_app.ChannelConnector": lambda w, i: connector_configure(
        channel=_channel(i), kind="shopify", base_url=f"https://shop{i}.example", token="t"
    ),
    "channels_app.ChannelKey": lambda w, i: channel_key_create(channel=_channel(i)),
    "channels_app.CustomerTerms": _customer_terms,
    "channels_app.PriceList": lambda w, i: _price_list(i),
    "channels_app.SalesChannel": _sales_channel,
    "channels_app.WebhookEndpoint": lambda w, i: webhook_endpoint_create(
        channel=_channel(i), url=f"https://hooks.example/{i}", events=["order.*", "shipment.*"]
    ),
    "channels_app.WebhookMessage": _webhook_message,
    "inventory.ChannelStockRule": lambda w, i: ChannelStockRule.objects.create(
        channel=_channel(i), location=_location(i), safety_stock=2
    ),
    "inventory.Location": _location_row,
    "inventory.RecurringPurchaseOrder": _recurring_order,
    "orders.FulfilmentPartner": lambda w, i: partner_save(
        location=_location(i, kind=Location.Kind.DROPSHIP), name=f"Partner {i}", email=f"p{i}@example.com"
    ),
    "orders.PartnerKey": lambda w, i: partner_key_create(
        partner=partner_save(location=_location(i, kind=Location.Kind.THIRD_PARTY), name=f"3PL {i}")
    ),
    "orders.TrackingEvent": _tracking_event,
    "returns.Refund": lambda w, i: w.closed_return(i, "refund"),
    "returns.ReturnPolicy": lambda w, i: ReturnPolicy.objects.create(channel=_channel(i), window_days=30 + i),
    "returns.ReturnReceipt": lambda w, i: w.closed_return(i, "refund"),
    "returns.StoreCreditEntry": lambda w, i: w.closed_return(i, "store_credit"),
}
MODELS = {model._meta.label: model for model in admin.site._registry}


@pytest.fixture
def boss(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


def _changelist(client: Client, model) -> tuple[int, int]:
    """(queries, rows shown) of the model's changelist."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.context["cl"].result_list)


@pytest.mark.parametrize("label", sorted(BUILDERS))
def test_changelist_costs_the_same_queries_for_1_and_20_rows(boss, channel, warehouse, label):
    model, build, world = MODELS[label], BUILDERS[label], World(channel, warehouse)
    build(world, 0)
    _changelist(boss, model)  # warm the session and the content types out of the count
    one, shown = _changelist(boss, model)
    assert shown == model._default_manager.count() >= 1
    for i in range(1, 20):
        build(world, i)
    twenty, shown = _changelist(boss, model)
    assert shown == model._default_manager.count() >= 20
    assert twenty == one, f"{label}: {one} queries for {shown - 19} row(s), {twenty} for {shown}"
