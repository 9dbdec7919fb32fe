"""The two commands API.md names: create_channel (prints a channel key once) and drf_create_token."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from channels_app.models import ChannelKey, SalesChannel
from tests import factories

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_create_channel_prints_a_key_that_works_on_the_api():
    output = run("create_channel", "shop", "--name", "Web shop", "--kind", "web_store")

    key = output.strip().splitlines()[-1]
    assert key.startswith("ck_")
    channel = SalesChannel.objects.get(code="shop")
    assert (channel.name, channel.kind, channel.currency) == ("Web shop", "web_store", "USD")
    response = client_with(key).get("/api/v1/orders/")
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert client_with(key + "x").get("/api/v1/orders/").status_code == 401


def test_the_key_is_shown_once_and_stored_only_as_a_digest():
    key = run("create_channel", "shop", "--name", "Shop", "--kind", "marketplace").strip().splitlines()[-1]

    stored = ChannelKey.objects.get(channel__code="shop")
    assert key not in (stored.digest, stored.lookup, stored.name)
    assert len(stored.digest) == 64


def test_the_channel_key_places_orders_for_its_channel(warehouse):
    key = run("create_channel", "phone", "--name", "Phone", "--kind", "phone", "--currency", "eur")
    key = key.strip().splitlines()[-1]
    channel = SalesChannel.objects.get(code="phone")
    channel.locations.add(warehouse)
    factories.ProductFactory(sku="TEE-RED-M")

    response = client_with(key).post("/api/v1/orders/", factories.order_payload(currency=None), format="json")

    assert response.status_code == 201, response.json()
    assert (response.json()["channel"], response.json()["currency"]) == ("phone", "EUR")


def test_an_unknown_kind_is_a_clear_command_error():
    with pytest.raises(CommandError, match="invalid choice: 'shop'"):
        call_command("create_channel", "x", "--name", "X", "--kind", "shop")

    assert not SalesChannel.objects.exists()


def test_a_duplicate_code_is_a_clear_command_error():
    run("create_channel", "shop", "--name", "Shop", "--kind", "web_store")

    with pytest.raises(CommandError, match="A channel with code 'shop' already exists"):
        call_command("create_channel", "shop", "--name", "Again", "--kind", "web_store")

    assert SalesChannel.objects.get().name == "Shop"


def test_drf_create_token_gives_a_staff_token_that_works_on_the_api():
    factories.UserFactory(username="alice", is_staff=True, is_superuser=True)

    output = run("drf_create_token", "alice")

    token = output.split()[2]  # "Generated token <key> for user alice"
    assert "for user alice" in output
    assert client_with(token).get("/api/v1/products/").status_code == 200


def test_drf_create_token_for_an_unknown_user_fails_clearly():
    with pytest.raises(CommandError, match="nobody"):
        call_command("drf_create_token", "nobody")
