"""ApiKeyAuthentication.find: the key and its select_related rows in one query, read as the ORM reads them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from channels_app.auth import ChannelKeyAuthentication
from inventory.apikeys import StaffTokenAuthentication
from tests import factories

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    """Each column's value with its type (1 == True: the type tells a converted boolean from a raw one)."""
    return {
        f.attname: (getattr(instance, f.attname), type(getattr(instance, f.attname)))
        for f in instance._meta.concrete_fields
    }


@pytest.mark.parametrize(
    ("auth", "raw_key"),
    [
        (ChannelKeyAuthentication, lambda: factories.channel_with_key("shop", payment_terms_days=30)[1]),
        (
            StaffTokenAuthentication,
            lambda: factories.staff_token(get_user_model().objects.create_user("lead", is_staff=True)),
        ),
    ],
)
def test_find_reads_what_the_orm_reads(auth, raw_key, django_assert_num_queries):
    raw = raw_key()
    lookup = auth.model.lookup_of(raw)
    expected = auth.model.objects.select_related(*auth.select_related).get(lookup=lookup)

    with django_assert_num_queries(1):
        found = auth().find(lookup)
        (name,) = auth.select_related
        related = getattr(found, name)  # loaded with the key: no query

    assert type(found) is auth.model
    assert _fields(found) == _fields(expected)
    assert _fields(related) == _fields(getattr(expected, name))
    assert not found._state.adding
    assert not related._state.adding
    assert found.matches(raw)
    assert not [attr for attr in found.__dict__ if attr.startswith(f"_{name}_")]  # no joined columns left over
    assert auth().find(lookup[:-1] + ("0" if lookup[-1] != "0" else "1")) is None


@pytest.mark.postgres
def test_the_look_up_every_request_makes_is_prepared_once_per_connection(channel):
    """PostgreSQL planned the key's look-up for every API request (more CPU than running it): sent more than
    PG_PREPARE_THRESHOLD times on a connection, it is prepared."""
    from django.db import connection

    raw = factories.channel_with_key("prep")[1]
    lookup = ChannelKeyAuthentication.model.lookup_of(raw)
    for _ in range(connection.settings_dict["OPTIONS"]["prepare_threshold"] + 1):
        assert ChannelKeyAuthentication().find(lookup).lookup == lookup
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "channels_app_channelkey" k' in s and 'k."lookup" = $1' in s for s in prepared), prepared
