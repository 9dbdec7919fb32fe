"""channels_app.auth: a ``Token ck_...`` header authenticates as one sales channel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory

from channels_app.auth import ChannelKeyAuthentication
from channels_app.models import ChannelKey
from channels_app.services import channel_key_create, channel_key_revoke
from tests import factories

pytestmark = pytest.mark.django_db


def authenticate(header: str | None):
    request = APIRequestFactory().get("/api/v1/orders/", HTTP_AUTHORIZATION=header) if header else None
    request = request or APIRequestFactory().get("/api/v1/orders/")
    return ChannelKeyAuthentication().authenticate(request)


def test_a_channel_key_authenticates_as_its_channel(channel_with_key):
    channel, key = channel_with_key

    user, auth = authenticate(f"Token {key}")

    assert user.channel == channel
    assert (user.is_authenticated, user.is_staff, user.is_superuser) == (True, False, False)
    assert user.has_perm("orders.view_order") is False
    assert str(user) == "channel:webstore"
    assert auth == ChannelKey.objects.get(channel=channel)


@pytest.mark.parametrize("header", [None, "Token", "Bearer ck_abc_def", "Token 0123456789abcdef0123"])
def test_other_headers_are_left_to_the_next_authenticator(channel_with_key, header):
    assert authenticate(header) is None


def test_a_wrong_secret_behind_a_real_lookup_is_refused(channel_with_key):
    _, key = channel_with_key
    lookup_part, _, secret = key.rpartition("_")

    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate(f"Token {lookup_part}_{'A' * len(secret)}")


def test_an_unknown_key_is_refused(channel_with_key):
    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate("Token ck_000000000000_whatever")


def test_a_revoked_key_is_refused_and_another_key_of_the_channel_still_works(channel_with_key):
    channel, key = channel_with_key
    _, second = channel_key_create(channel=channel, name="second")
    channel_key_revoke(key=ChannelKey.objects.get(channel=channel, name="default"))

    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate(f"Token {key}")
    assert authenticate(f"Token {second}")[0].channel == channel


def test_a_key_of_an_inactive_channel_is_refused(channel_with_key):
    channel, key = channel_with_key
    channel.active = False
    channel.save()

    with pytest.raises(exceptions.AuthenticationFailed):
        authenticate(f"Token {key}")


def test_last_used_is_written_at_most_once_a_minute(channel_with_key, django_assert_num_queries):
    channel, key = channel_with_key
    with django_assert_num_queries(2):  # look up, stamp
        authenticate(f"Token {key}")
    with django_assert_num_queries(1):  # look up only
        authenticate(f"Token {key}")

    ChannelKey.objects.filter(channel=channel).update(last_used_at=timezone.now() - timedelta(minutes=2))
    with django_assert_num_queries(2):
        authenticate(f"Token {key}")


def test_keys_are_unique_and_hashed_at_rest(db):
    channel = factories.ChannelFactory(code="shop")
    keys = {channel_key_create(channel=channel)[1] for _ in range(5)}

    assert len(keys) == 5
    stored = set(ChannelKey.objects.values_list("digest", flat=True))
    assert not keys & stored
