"""OrderInput.fingerprint gives the digest it always gave: stored fingerprints decide whether a retry is
the same order, across versions. The reference below is the algorithm as first written (asdict + json)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from orders.models import Customer, Order
from orders.services import AddressInput, CustomerInput, LineInput, OrderInput


def reference_fingerprint(data: OrderInput) -> str:
    def normal(value):
        if isinstance(value, Decimal):
            return str(value.quantize(Decimal("0.01")))
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    raw = json.dumps(asdict(data), sort_keys=True, default=normal)
    return hashlib.sha256(raw.encode()).hexdigest()


text = st.text(max_size=12)  # any unicode, quotes, backslashes, control characters, surrogates excluded
money = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"), places=4, allow_nan=False)
zones = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))])
moments = st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2100, 1, 1), timezones=zones)
inputs = st.builds(
    OrderInput,
    external_id=text,
    customer=st.builds(
        CustomerInput, email=text, name=text, phone=text, kind=st.sampled_from([*Customer.Kind, "other"])
    ),
    shipping_address=st.builds(
        AddressInput, name=text, line1=text, city=text, postal_code=text, country=text, line2=text, region=text
    ),
    lines=st.lists(
        st.builds(LineInput, sku=text, quantity=st.integers(-5, 10**6), unit_price=st.none() | money), max_size=4
    ),
    placed_at=st.none() | moments,
    currency=st.none() | text,
    shipping_method=text,
    payment_status=st.sampled_from([*Order.PaymentStatus, "x"]),
    promised_delivery_date=st.none() | st.dates(),
    notes=text,
)


@settings(max_examples=300, deadline=None)
@given(inputs)
def test_the_digest_is_the_one_asdict_and_json_gave(data):
    assert data.fingerprint() == reference_fingerprint(data)


def test_known_inputs_keep_their_digests():
    data = OrderInput(
        external_id="WEB-1001 ✓",
        customer=CustomerInput(email="ana@example.com", name='Ana "Ño" O\'Brien', kind=Customer.Kind.BUSINESS),
        shipping_address=AddressInput(
            name="Ana", line1="1 Main\\St\n", city="Zürich", postal_code="8001", country="CH"
        ),
        lines=[LineInput(sku="A", quantity=2, unit_price=Decimal("9.5")), LineInput(sku="B", quantity=1)],
        placed_at=datetime(2026, 11, 20, 9, 3, 4, 120, tzinfo=timezone(timedelta(hours=1))),
        currency="CHF",
        payment_status=Order.PaymentStatus.PENDING,
        promised_delivery_date=date(2026, 12, 1),
        notes="😀",
    )
    assert data.fingerprint() == reference_fingerprint(data)
    assert (
        OrderInput(
            external_id="E",
            customer=CustomerInput(email="e@x"),
            shipping_address=AddressInput("n", "l", "c", "p", "US"),
        ).fingerprint()
        == "e26b9eddeefe954c5d56d91cba8822672df01e87df5086aea13913301dc94992"
    )  # as stored
