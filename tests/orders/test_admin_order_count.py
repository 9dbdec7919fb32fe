"""The order changelist on a big table: no full ``count(*)`` on every page (issue 8)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orders.admin import EstimatedCountPaginator
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(manager) -> Client:
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def orders(channel, warehouse):
    factories.stock(factories.ProductFactory(sku="TEE"), warehouse, 100)
    return [factories.place(channel, f"C-{i}", lines=[("TEE", 1)]) for i in range(3)]


def _order_counts(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and '"orders_order"' in q["sql"]]


def test_the_changelist_never_counts_the_whole_table_for_its_total(boss, orders):
    page = boss.get("/admin/orders/order/")
    assert page.status_code == 200
    assert page.context["cl"].show_full_result_count is False
    assert isinstance(page.context["cl"].paginator, EstimatedCountPaginator)
    assert all(o.number in page.content.decode() for o in orders)
    assert page.context["cl"].result_count == 3  # small or not PostgreSQL: exact


@pytest.mark.postgres
def test_unfiltered_on_postgresql_the_total_is_the_planners_estimate(boss, orders, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 1)  # as if the table were big
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")  # what autovacuum keeps up to date
    with CaptureQueriesContext(connection) as ctx:
        page = boss.get("/admin/orders/order/")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 3  # reltuples, just analysed
    assert _order_counts(ctx) == []
    assert any("reltuples" in q["sql"] for q in ctx.captured_queries)

    with CaptureQueriesContext(connection) as ctx:
        filtered = boss.get("/admin/orders/order/?status__exact=received")
    assert filtered.context["cl"].result_count == 3  # a filtered list counts exactly
    assert _order_counts(ctx) != []


@pytest.mark.parametrize("kind", ["year", "month", "day"])
def test_the_date_hierarchy_steps_along_the_index_with_the_same_answer(orders, kind):
    import datetime as dt

    from django.utils import timezone

    from orders.admin import SteppingDatesQuerySet
    from orders.models import Order

    base = timezone.now().replace(microsecond=0)
    moments = [base, base - dt.timedelta(days=1), base - dt.timedelta(days=40), base - dt.timedelta(days=800)]
    for order, at in zip(
        orders + [factories.place(orders[0].channel, "C-old", lines=[("TEE", 1)])], moments, strict=True
    ):
        Order.objects.filter(pk=order.pk).update(placed_at=at)
    stepping = Order.objects.all()
    stepping.__class__ = SteppingDatesQuerySet

    expected = list(Order.objects.datetimes("placed_at", kind))
    assert stepping.datetimes("placed_at", kind) == expected
    assert len(expected) >= 2  # spread over periods, with gaps between them
    assert stepping.filter(external_id="C-old").datetimes("placed_at", kind) == list(
        Order.objects.filter(external_id="C-old").datetimes("placed_at", kind)
    )


def test_the_changelist_opens_at_every_level_of_the_date_hierarchy(boss, orders):
    today = orders[0].placed_at
    for query in (
        "",
        f"?placed_at__year={today.year}",
        f"?placed_at__year={today.year}&placed_at__month={today.month}",
    ):
        page = boss.get(f"/admin/orders/order/{query}")
        assert page.status_code == 200
        assert orders[0].number in page.content.decode()
