"""``dumps_like`` writes what ``json.dumps`` writes, byte for byte: the payload digest and the order
fingerprint are stored and compared with what arrives later, across versions."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels_app.intake import payload_digest
from inventory.json_text import dumps_like

# What a parsed payload holds (any unicode, control characters, floats in every form, big integers),
# plus the values only ``default`` can write.
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
    | st.decimals(allow_nan=False, places=3)
    | st.dates()
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(values, st.booleans(), st.sampled_from([(", ", ": "), (",", ":")]))
def test_the_text_is_json_dumps_text(value, sort_keys, separators):
    fast = dumps_like(sort_keys=sort_keys, separators=separators, default=str)
    assert fast(value) == json.dumps(value, sort_keys=sort_keys, separators=separators, default=str)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["csv", "shopify", "woocommerce", "api"]), values)
def test_payload_digest_is_the_digest_of_json_dumps(fmt, payload):
    import hashlib

    raw = json.dumps([fmt, payload], sort_keys=True, separators=(",", ":"), default=str)
    assert payload_digest(fmt, payload) == hashlib.sha256(raw.encode()).hexdigest()


def test_default_is_called_for_what_json_cannot_write_and_its_errors_pass_through():
    def refuse(value):
        raise TypeError(f"not JSON: {value!r}")

    fast = dumps_like(default=refuse)
    assert fast({"a": [1, "b"]}) == json.dumps({"a": [1, "b"]})
    with pytest.raises(TypeError, match="not JSON"):
        fast({"when": date(2026, 1, 1)})
    as_text = dumps_like(sort_keys=True, default=str)
    assert as_text({"b": Decimal("1.50"), "a": date(2026, 1, 1)}) == '{"a": "2026-01-01", "b": "1.50"}'


def test_keys_json_refuses_are_refused_the_same_way():
    fast = dumps_like(sort_keys=True, default=str)
    with pytest.raises(TypeError) as ours:
        fast({1: "a", "b": 2})  # json sorts mixed keys: int and str do not compare
    with pytest.raises(TypeError) as theirs:
        json.dumps({1: "a", "b": 2}, sort_keys=True, default=str)
    assert str(ours.value) == str(theirs.value)
