"""The admin order page explains the routing: per line, the candidates, the rule that decided, why others lost."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orders.models import OrderEvent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed_order(channel):
    near = factories.LocationFactory(code="NEAR", priority=1)
    far = factories.LocationFactory(code="LATER", priority=3)
    empty = factories.LocationFactory(code="EMPTY", priority=1)
    channel.locations.add(near, far, empty)
    tee = factories.ProductFactory(sku="TEE", price=Decimal("5.00"))
    factories.stock(tee, near, 5)
    factories.stock(tee, far, 5)
    return factories.place(channel, "ADM-1", [("TEE", 2)])


def _page(client, manager, order) -> str:
    client.force_login(manager)
    response = client.get(f"/admin/orders/order/{order.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_order_page_shows_each_lines_candidates_rule_and_why_others_lost(client, manager, routed_order):
    html = _page(client, manager, routed_order)

    assert "Routing: where each line ships from, and why" in html
    assert "TEE × 2: 2 from NEAR" in html
    assert "Decided by <strong>location priority</strong>" in html
    assert "<td>NEAR</td>" in html
    assert "chosen: 2" in html
    assert "lost: lower_priority" in html
    assert "Priority 3 after NEAR&#x27;s 1." in html
    assert "lost: no_stock" in html  # EMPTY


def test_a_rejected_line_says_so_on_the_order_page(client, manager, channel, routed_order):
    channel.backorder_policy = "reject"
    channel.save(update_fields=["backorder_policy"])
    factories.ProductFactory(sku="GONE")
    order = factories.place(channel, "ADM-2", [("GONE", 3)])

    html = _page(client, manager, order)

    assert "GONE × 3: nothing reserved; 3 rejected" in html
    assert "Decided by <strong>rejected (the channel does not backorder)</strong>" in html


def test_an_order_without_a_recorded_decision_says_so(client, manager, routed_order):
    OrderEvent.objects.filter(order=routed_order, type="routed").delete()

    assert "No routing decision was recorded for this order." in _page(client, manager, routed_order)
