"""Schema fuzzing: every operation of /api/v1/schema/, called in-process through the WSGI app.

No 5xx, every response conforms to the schema, every status is documented.
Bounded examples and derandomized generation keep it fast and repeatable in CI.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests import factories

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES = 6


@pytest.fixture
def seeded(manager):
    """A channel with a stocked location and an order, so generated path ids sometimes exist."""
    channel, channel_key = factories.channel_with_key()
    location = factories.LocationFactory(code="MAIN", priority=1)
    channel.locations.add(location)
    product = factories.ProductFactory(sku="TEE-RED-M")
    factories.stock(product, location, 50)
    factories.place(channel, "FUZZ-1")
    return {
        "staff": {"Authorization": f"Token {factories.staff_token(manager)}"},
        "channel": {"Authorization": f"Token {channel_key}"},
        "revoked or made-up key": {"Authorization": "Token ck_not-a-key"},
        "anonymous": {},
    }


def _fuzz(operation, headers: dict[str, str]) -> list[str]:
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
    )
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except BaseException as exc:  # collected so one run reports every operation's failure
        if isinstance(exc, KeyboardInterrupt):
            raise
        found = getattr(exc, "exceptions", [exc])
        failures += [f"{operation.label}: {type(e).__name__}: {' '.join(str(e).split())[:300]}" for e in found]
    return failures


@pytest.fixture
def connection_kept_between_requests():
    """As Django's test Client does: the test's transaction must outlive each request
    (on PostgreSQL, request_started/finished would otherwise close the connection under it)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.parametrize("who", ["staff", "channel", "revoked or made-up key", "anonymous"])
def test_every_operation_answers_within_its_schema(seeded, who, connection_kept_between_requests):
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    failures: list[str] = []
    for result in schema.get_all_operations():
        failures += _fuzz(result.ok(), seeded[who])
    assert not failures, "\n\n".join(failures)
