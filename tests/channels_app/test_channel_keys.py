"""Several keys per channel, hashed at rest, shown once, revocable; per-key throttling."""

import io

from django.core.management import call_command
from rest_framework.test import APIClient

from channels_app.models import ChannelKey
from channels_app.services import channel_key_create, channel_key_revoke


def client_for(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def test_a_channel_has_several_live_keys_and_revoking_one_leaves_the_other(channel):
    first, raw1 = channel_key_create(channel=channel, name="shop-a")
    _, raw2 = channel_key_create(channel=channel, name="shop-b")
    assert raw1 not in {k.digest for k in ChannelKey.objects.all()}  # only digests are stored
    assert not ChannelKey.objects.filter(digest__contains=raw1.split("_")[-1]).exists()
    assert client_for(raw1).get("/api/v1/inbound-orders/").status_code == 200
    channel_key_revoke(key=first)
    assert client_for(raw1).get("/api/v1/inbound-orders/").status_code == 401
    assert client_for(raw2).get("/api/v1/inbound-orders/").status_code == 200
    assert ChannelKey.objects.get(name="shop-b").last_used_at is not None


def test_keys_command_issues_lists_and_revokes(channel):
    out = io.StringIO()
    call_command("channel_keys", "webstore", "--create", "erp", stdout=out)
    raw = out.getvalue().splitlines()[-1]
    assert raw.startswith("ck_")
    key = ChannelKey.objects.get(name="erp")
    assert client_for(raw).get("/api/v1/inbound-orders/").status_code == 200
    listing = io.StringIO()
    call_command("channel_keys", "webstore", stdout=listing)
    assert key.lookup in listing.getvalue()
    assert raw not in listing.getvalue()
    call_command("channel_keys", "webstore", "--revoke", key.lookup, stdout=io.StringIO())
    assert client_for(raw).get("/api/v1/inbound-orders/").status_code == 401


def test_each_key_is_throttled_on_its_own_with_retry_after(channel, settings):
    settings.CHANNEL_KEY_THROTTLE_RATE = "3/min"
    _, noisy = channel_key_create(channel=channel, name="noisy")
    _, calm = channel_key_create(channel=channel, name="calm")
    noisy_client = client_for(noisy)
    codes = [noisy_client.get("/api/v1/inbound-orders/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = noisy_client.get("/api/v1/inbound-orders/")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert client_for(calm).get("/api/v1/inbound-orders/").status_code == 200  # another key of the same channel


def test_staff_tokens_are_not_throttled_by_the_channel_rate(staff_api, settings):
    settings.CHANNEL_KEY_THROTTLE_RATE = "1/min"
    assert [staff_api.get("/api/v1/inbound-orders/").status_code for _ in range(3)] == [200, 200, 200]


def test_a_generous_rate_is_the_default():
    from django.conf import settings as django_settings

    count, _, _period = django_settings.CHANNEL_KEY_THROTTLE_RATE.partition("/")
    assert int(count) >= 600


def test_partner_keys_and_staff_tokens_are_throttled_each_on_its_own(manager, settings):
    from inventory.apikeys import staff_token_create
    from orders.partners import partner_key_create, partner_save
    from tests import factories

    settings.API_KEY_THROTTLE_RATE = "2/min"
    settings.CHANNEL_KEY_THROTTLE_RATE = "100/min"
    location = factories.LocationFactory(code="DROP", kind="dropship")
    partner = partner_save(location=location, name="Sofas Direct", email="s@example.com")
    _, partner_raw = partner_key_create(partner=partner)
    _, first_token = staff_token_create(user=manager)
    _, second_token = staff_token_create(user=manager, name="second")

    partner_client = client_for(partner_raw)
    assert [partner_client.get("/api/v1/partner/shipments/").status_code for _ in range(3)] == [200, 200, 429]
    staff = client_for(first_token)
    assert [staff.get("/api/v1/orders/").status_code for _ in range(3)] == [200, 200, 429]
    assert 0 < int(staff.get("/api/v1/orders/")["Retry-After"]) <= 60
    assert client_for(second_token).get("/api/v1/orders/").status_code == 200  # the user's other token
