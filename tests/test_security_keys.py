"""API keys and staff tokens: stored only as digests, shown once, revocable, compared in constant time."""

from __future__ import annotations

import ast
import re
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from channels_app.models import ChannelKey
from channels_app.services import channel_key_create, channel_key_revoke
from inventory.apikeys import StaffToken, key_digest
from inventory.models import Location
from orders.partners import partner_key_create, partner_key_revoke, partner_save
from tests import factories

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
PROBE = "/api/v1/products/"


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def _row_values(instance) -> list[str]:
    row = type(instance).objects.filter(pk=instance.pk).values().get()
    return [str(value) for value in row.values()]


@pytest.fixture
def partner_key():
    location = Location.objects.create(code="DS1", name="Dropship 1", kind=Location.Kind.DROPSHIP)
    partner = partner_save(location=location, name="Drop Co", email="po@drop.example")
    return partner_key_create(partner=partner)


def _issued(kind, manager, partner_key):
    if kind == "staff":
        return _staff(manager)
    if kind == "channel":
        return channel_key_create(channel=factories.ChannelFactory(code="keys"))
    return partner_key


def _staff(manager):
    from inventory.apikeys import staff_token_create

    return staff_token_create(user=manager)


@pytest.mark.parametrize("kind", ["staff", "channel", "partner"])
def test_only_the_digest_is_stored_and_the_key_authenticates(kind, manager, partner_key):
    key, raw = _issued(kind, manager, partner_key)
    secret = raw.split("_", 2)[2]  # <prefix>_<lookup>_<secret>: the secret may itself hold a "_"
    values = _row_values(key)
    assert not any(raw in value or secret in value for value in values), values
    assert key_digest(raw) in values
    assert key.last_used_at is None
    assert _client(raw).get(PROBE).status_code not in (401,)
    key.refresh_from_db()
    assert key.last_used_at is not None, "a used key records when it was last used"


@pytest.mark.parametrize("kind", ["staff", "channel", "partner"])
def test_revoked_or_altered_key_is_401(kind, manager, partner_key):
    key, raw = _issued(kind, manager, partner_key)
    assert _client(raw[:-1] + ("A" if raw[-1] != "A" else "B")).get(PROBE).status_code == 401
    if kind == "staff":
        call_command("drf_create_token", manager.username, "--revoke", stderr=StringIO())
    elif kind == "channel":
        channel_key_revoke(key=key)
    else:
        partner_key_revoke(key=key)
    response = _client(raw).get(PROBE)
    assert response.status_code == 401, response.content


def test_commands_print_the_key_once_and_store_its_digest(manager):
    out = StringIO()
    call_command("drf_create_token", manager.username, stdout=out)
    raw = re.search(r"Generated token (st_\S+)", out.getvalue()).group(1)
    assert StaffToken.objects.filter(user=manager, digest=key_digest(raw)).exists()
    assert _client(raw).get(PROBE).status_code == 200

    factories.ChannelFactory(code="shop")
    out = StringIO()
    call_command("channel_keys", "shop", "--create", "pos", stdout=out)
    raw = re.search(r"(ck_\S+)", out.getvalue()).group(1)
    assert ChannelKey.objects.filter(digest=key_digest(raw)).exists()
    # Listing keys afterwards never shows the key again.
    out = StringIO()
    call_command("channel_keys", "shop", stdout=out)
    assert raw not in out.getvalue()
    assert raw.split("_", 2)[2] not in out.getvalue()  # the secret: ck_<lookup>_<secret>, which may hold a "_"


def test_legacy_drf_tokens_are_carried_over_as_digests(manager):
    """Migration inventory 0005 hashes DRF authtoken's plain keys: old tokens keep working."""
    migration = __import__("inventory.migrations.0005_staff_tokens_hashed", fromlist=["hash_plain_drf_tokens"])
    legacy = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id integer, created timestamp)")
        cursor.execute(
            "INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, %s)",
            [legacy, manager.pk, "2026-01-02 03:04:05"],
        )

    def execute(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)

    editor = SimpleNamespace(connection=connection, execute=execute, quote_name=connection.ops.quote_name)
    migration.hash_plain_drf_tokens(django_apps, editor)

    assert "authtoken_token" not in connection.introspection.table_names(), "the plain-text table is dropped"
    token = StaffToken.objects.get(user=manager)
    assert legacy not in _row_values(token)
    assert token.digest == key_digest(legacy)
    assert (token.created_at.year, token.created_at.month, token.created_at.day) == (2026, 1, 2)
    assert _client(legacy).get(PROBE).status_code == 200


def test_key_check_uses_compare_digest(manager, partner_key):
    _, raw = _staff(manager)
    with mock.patch("inventory.apikeys.hmac.compare_digest", return_value=False) as compare:
        assert _client(raw).get(PROBE).status_code == 401
    compare.assert_called_once_with(mock.ANY, key_digest(raw))


SECRET_WORDS = re.compile(r"digest|signature|secret|token|hmac|mac\b", re.I)
CHECKED = ["inventory/apikeys.py", "channels_app/webhooks.py", "channels_app/auth.py", "orders/partner_auth.py"]
CHECKED += [str(p.relative_to(ROOT)) for p in (ROOT / "channels_app" / "connectors").glob("*.py")]


@pytest.mark.parametrize("relative", CHECKED)
def test_no_secret_is_compared_with_equals(relative):
    """Structural: no ``==``/``!=`` whose side names a digest, signature, secret or token."""
    tree = ast.parse((ROOT / relative).read_text())
    offenders = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
            sides = [node.left, *node.comparators]
            if any(SECRET_WORDS.search(ast.unparse(side)) for side in sides):
                offenders.append(f"{relative}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, "use hmac.compare_digest:\n" + "\n".join(offenders)
