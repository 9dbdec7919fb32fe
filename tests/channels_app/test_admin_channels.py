"""Back office of issue 5: inbound orders (replay, file upload), webhooks, connectors."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from channels_app.models import ChannelConnector, InboundOrder, WebhookEndpoint
from orders.models import Order
from tests import factories
from tests.channels_app.payloads import csv_rows, write_csv


@pytest.fixture
def admin_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def tee(warehouse):
    factories.stock(factories.ProductFactory(sku="TEE-RED-M"), warehouse, 50)


def test_inbound_changelist_costs_the_same_queries_for_1_and_20_rows(admin_client, channel):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:channels_app_inboundorder_changelist")

    def make(n, start):
        InboundOrder.objects.bulk_create(
            InboundOrder(
                channel=channel, way_in="api", format="api", payload={}, digest=f"d{start + i}", status="failed"
            )
            for i in range(n)
        )

    counts = []
    for n, start in ((1, 0), (19, 1)):
        make(n, start)
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get(url)
        assert response.status_code == 200
        counts.append((response.content.count(b'name="_selected_action"'), len(ctx.captured_queries)))
    assert [rows for rows, _ in counts] == [1, 20]
    assert counts[0][1] == counts[1][1]
    assert b"Import a file" in response.content


def test_replay_action_places_a_fixed_order(admin_client, channel, tee):
    from channels_app.intake import inbound_receive

    payload = factories.order_payload(lines=[{"sku": "LATER", "quantity": 1}])
    inbound = inbound_receive(channel=channel, way_in="api", fmt="api", payload=payload, actor="test")
    assert inbound.status == "failed"
    factories.ProductFactory(sku="LATER")
    response = admin_client.post(
        reverse("admin:channels_app_inboundorder_changelist"),
        {"action": "replay", "_selected_action": [inbound.pk]},
        follow=True,
    )
    assert b"Replayed: 1 imported." in response.content
    inbound.refresh_from_db()
    assert inbound.status == "imported"
    assert Order.objects.get().events.first().actor == "user:manager"


def test_a_failed_payload_is_corrected_in_the_admin(admin_client, channel, tee):
    from channels_app.intake import inbound_receive

    bad = factories.order_payload(lines=[{"sku": "TYPO", "quantity": 1}])
    inbound = inbound_receive(channel=channel, way_in="api", fmt="api", payload=bad, actor="test")
    url = reverse("admin:channels_app_inboundorder_change", args=[inbound.pk])
    assert admin_client.get(url).status_code == 200
    fixed = factories.order_payload(lines=[{"sku": "TEE-RED-M", "quantity": 1}])
    import json

    response = admin_client.post(url, {"payload": json.dumps(fixed)})
    assert response.status_code == 302
    inbound.refresh_from_db()
    assert inbound.payload == fixed
    assert inbound.status == "failed"  # saved, not yet replayed


def test_upload_page_imports_a_csv(admin_client, channel, tee, tmp_path):
    url = reverse("admin:channels_app_inboundorder_import")
    assert admin_client.get(url).status_code == 200
    path = write_csv(tmp_path / "o.csv", csv_rows("UP-1", ("TEE-RED-M", 1, "1.00")) + csv_rows("UP-2", ("NOPE", 1, "")))
    upload = SimpleUploadedFile("o.csv", path.read_bytes(), content_type="text/csv")
    response = admin_client.post(url, {"channel": "webstore", "format": "csv", "file": upload}, follow=True)
    assert b"File o.csv: imported 1, duplicates 0, failed 1" in response.content
    assert Order.objects.get().external_id == "UP-1"
    assert InboundOrder.objects.get(status="failed").source == "o.csv"


def test_upload_page_explains_a_garbage_file(admin_client, channel):
    upload = SimpleUploadedFile("x.json", b"\x00garbage", content_type="application/json")
    response = admin_client.post(
        reverse("admin:channels_app_inboundorder_import"), {"channel": "webstore", "format": "shopify", "file": upload}
    )
    assert response.status_code == 200
    assert b"Not a JSON export" in response.content
    assert InboundOrder.objects.count() == 0


def test_webhook_secret_is_shown_once_on_add(admin_client, channel):
    response = admin_client.post(
        reverse("admin:channels_app_webhookendpoint_add"),
        {
            "channel": channel.pk,
            "url": "https://shop.example/h",
            "events": ["order.received", "shipment.*"],
            "active": "on",
        },
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.encode() in response.content
    assert endpoint.events == ["order.received", "shipment.*"]
    page = admin_client.get(reverse("admin:channels_app_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret.encode() not in page.content


def test_connector_secrets_are_never_shown_back(admin_client, channel):
    response = admin_client.post(
        reverse("admin:channels_app_channelconnector_add"),
        {"channel": channel.pk, "kind": "woocommerce", "base_url": "https://store.example", "api_version": "2024-10",
         "token": "ck_secret_key", "secret": "cs_secret_value", "enabled": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    config = ChannelConnector.objects.get()
    assert (config.token, config.secret) == ("ck_secret_key", "cs_secret_value")
    url = reverse("admin:channels_app_channelconnector_change", args=[config.pk])
    page = admin_client.get(url)
    assert b"ck_secret_key" not in page.content
    assert b"cs_secret_value" not in page.content
    # Saving with the secrets left blank keeps them.
    admin_client.post(url, {"channel": channel.pk, "kind": "woocommerce", "base_url": "https://store2.example",
                            "api_version": "2024-10", "token": "", "secret": "", "enabled": "on"})  # fmt: skip
    config.refresh_from_db()
    assert (config.base_url, config.token, config.secret) == (
        "https://store2.example",
        "ck_secret_key",
        "cs_secret_value",
    )
