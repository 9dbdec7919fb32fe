"""inventory.bulk.find_each answers what the ``filter(..., field__in=...)`` it stands for answers."""

from __future__ import annotations

import pytest

from channels_app.models import InboundOrder
from inventory import bulk
from tests import factories

pytestmark = pytest.mark.django_db


def _staged(channel, external_id: str, digest: str) -> InboundOrder:
    return InboundOrder.objects.create(
        channel=channel, way_in="file", format="csv", external_id=external_id, payload={}, digest=digest
    )


def test_the_rows_of_these_values_in_key_order_and_nothing_else(channel):
    other = factories.ChannelFactory(code="other")
    b1 = _staged(channel, "B", "d1")
    a1 = _staged(channel, "A", "d2")
    _staged(other, "A", "d2")  # another channel's
    _staged(channel, "C", "d3")  # not asked for
    a2 = _staged(channel, "A", "d4")

    found = bulk.find_each(InboundOrder, field="external_id", values=["A", "B", "A", "Z"], channel=channel)

    assert [row.pk for row in found] == [b1.pk, a1.pk, a2.pk]
    assert found[1].digest == "d2"
    assert found[1].channel_id == channel.pk
    narrowed = bulk.find_each(
        InboundOrder, field="external_id", values=["A", "B"], among={"digest": ["d1", "d4"]}, channel=channel
    )
    assert [row.pk for row in narrowed] == [b1.pk, a2.pk]
    assert bulk.find_each(InboundOrder, field="external_id", values=[], channel=channel) == []
