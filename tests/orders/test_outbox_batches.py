"""The outbox sends one task per commit, with the ids of the events that commit wrote (issue 8)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from orders import outbox, tasks
from orders.models import OrderEvent
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(channel, warehouse):
    factories.stock(factories.ProductFactory(sku="TEE"), warehouse, 10)
    return factories.place(channel, "OB-1", lines=[("TEE", 1)])


def _event(order, kind: str) -> OrderEvent:
    return OrderEvent.objects.create(order=order, type=kind, at=timezone.now(), actor="t")


def test_events_of_a_rolled_back_savepoint_are_left_out(order, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(outbox, "wants", lambda event_type: True)
    enqueue = mock.patch.object(tasks.outbox_dispatch_task, "apply_async")
    with enqueue as enqueued, django_capture_on_commit_callbacks(execute=True):
        first = _event(order, "test.first")
        try:
            with transaction.atomic():
                _event(order, "test.undone")
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        last = _event(order, "test.last")
    assert enqueued.call_count == 1
    assert enqueued.call_args.kwargs["kwargs"]["event_ids"] == [first.pk, last.pk]


def test_two_commits_are_two_tasks(order, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(outbox, "wants", lambda event_type: True)
    with mock.patch.object(tasks.outbox_dispatch_task, "apply_async") as enqueued:
        with django_capture_on_commit_callbacks(execute=True):
            one = [_event(order, "test.a").pk, _event(order, "test.b").pk]
        with django_capture_on_commit_callbacks(execute=True):
            two = [_event(order, "test.c").pk]
    assert [c.kwargs["kwargs"]["event_ids"] for c in enqueued.call_args_list] == [one, two]


def test_a_batch_with_a_failing_event_sends_the_others_and_retries_that_one(order, monkeypatch):
    sent = []

    def flaky(event):
        if event.type == "test.bad":
            raise ConnectionError("partner down")
        sent.append(event.pk)

    monkeypatch.setitem(outbox._HANDLERS, "test.good", [flaky])
    monkeypatch.setitem(outbox._HANDLERS, "test.bad", [flaky])
    good, bad = _event(order, "test.good"), _event(order, "test.bad")
    with pytest.raises(ConnectionError):
        outbox.dispatch_many(event_ids=[good.pk, bad.pk])  # raising makes the task retry
    assert sent == [good.pk]
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.dispatched_at is None  # let go, for the retry or the sweep
    assert good.dispatched_at is not None
    monkeypatch.setitem(outbox._HANDLERS, "test.bad", [lambda event: sent.append(event.pk)])
    assert outbox.dispatch_many(event_ids=[good.pk, bad.pk]) == 1  # the retry sends only what is left
    assert sent == [good.pk, bad.pk]


def _dispatch_queries(channel, prefix: str, orders: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(orders):
        factories.place(channel, f"{prefix}-{i}", lines=[("TEE", 1)])
    ids = list(OrderEvent.objects.filter(dispatched_at__isnull=True).values_list("pk", flat=True))
    assert len(ids) >= 3 * orders  # placed, routed, received
    with CaptureQueriesContext(connection) as queries:
        assert outbox.dispatch_many(event_ids=ids) == len(ids)
    return len(queries)


def test_a_batch_costs_the_same_queries_whatever_its_size(channel, warehouse):
    """Handlers read for the whole batch (outbox.batch_memo): the webhook endpoints of its channels
    and the partner shipments of its orders once, not once per event (an import commits thousands)."""
    from channels_app.webhooks import webhook_endpoint_create

    factories.stock(factories.ProductFactory(sku="TEE"), warehouse, 100)
    webhook_endpoint_create(channel=channel, url="https://example.test/hook", events=["order.cancelled"])
    one, ten = _dispatch_queries(channel, "Q1", 1), _dispatch_queries(channel, "Q10", 10)
    assert one == ten, (one, ten)


def test_the_events_of_an_order_share_its_row_read_once_with_customer_and_channel(channel, warehouse, monkeypatch):
    """The drain reads each order once for all its events (an order placed writes three), not joined to each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    factories.stock(factories.ProductFactory(sku="TEE"), warehouse, 10)
    orders = [factories.place(channel, f"SH-{i}", lines=[("TEE", 1)]) for i in range(2)]
    seen: list[OrderEvent] = []
    for kind in ("placed", "routed", "received"):
        monkeypatch.setitem(outbox._HANDLERS, kind, [seen.append])
    ids = list(OrderEvent.objects.filter(order__in=orders).values_list("pk", flat=True))

    with CaptureQueriesContext(connection) as queries:
        assert outbox.dispatch_many(event_ids=ids) == len(ids)
    with CaptureQueriesContext(connection) as afterwards:
        by_order: dict[int, set[int]] = {}
        for event in seen:
            by_order.setdefault(event.order_id, set()).add(id(event.order))
            assert event.order.customer.email
            assert event.order.channel.code == channel.code
    assert len(afterwards) == 0  # customer and channel came with the order
    assert sorted(by_order) == sorted(o.pk for o in orders)
    assert all(len(instances) == 1 for instances in by_order.values())
    assert {e.type for e in seen} >= {"placed", "received"}
    order_reads = [q for q in queries.captured_queries if 'FROM "orders_order"' in q["sql"]]
    assert len(order_reads) == 1
