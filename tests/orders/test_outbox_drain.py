"""With a Redis broker, commits list their events and one drain task sends many commits' events (issue 8)."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from orders import outbox, tasks
from orders.models import OrderEvent
from tests import factories
from tests.workers import running_worker

pytestmark = pytest.mark.redis


@pytest.fixture
def listed():
    """The drain's Redis keys, empty before and after (the broker's database is shared by the suite)."""
    assert not celery_app.conf.task_always_eager
    client = outbox.drain_list()
    client.delete(outbox.PENDING_KEY, outbox.DRAIN_QUEUED_KEY)
    yield client
    client.delete(outbox.PENDING_KEY, outbox.DRAIN_QUEUED_KEY)


@pytest.fixture
def order(channel, warehouse):
    factories.stock(factories.ProductFactory(sku="TEE"), warehouse, 10)
    return factories.place(channel, "DR-1", lines=[("TEE", 1)])


@pytest.fixture
def sent(monkeypatch):
    """A handler for the test's event types that records what it was handed, failing on ``test.bad``."""
    got: list[int] = []

    def record(event):
        if event.type == "test.bad":
            raise ConnectionError("partner down")
        got.append(event.pk)

    for kind in ("test.a", "test.b", "test.bad"):
        monkeypatch.setitem(outbox._HANDLERS, kind, [record])
    return got


def _commit(order, capture, *kinds: str) -> list[int]:
    with capture(execute=True):
        return [OrderEvent.objects.create(order=order, type=k, at=timezone.now(), actor="t").pk for k in kinds]


@pytest.mark.django_db
def test_many_commits_queue_one_drain_and_it_sends_them_all(order, listed, sent, django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.outbox_drain_task, "apply_async") as drains:
        ids = [i for _ in range(3) for i in _commit(order, django_capture_on_commit_callbacks, "test.a", "test.b")]
        assert drains.call_count == 1  # three commits, one task
        assert drains.call_args.kwargs["countdown"] == outbox.DRAIN_DELAY_SECONDS  # it gathers a second's commits
        assert [int(i) for i in listed.lrange(outbox.PENDING_KEY, 0, -1)] == ids

        assert outbox.drain() >= len(ids)
        assert sent == ids
        assert not OrderEvent.objects.filter(pk__in=ids, dispatched_at__isnull=True).exists()
        assert listed.llen(outbox.PENDING_KEY) == 0

        _commit(order, django_capture_on_commit_callbacks, "test.a")  # after a drain began: a new one is queued
        assert drains.call_count == 2


@pytest.mark.django_db
def test_a_batch_with_a_failure_goes_back_to_the_dispatch_task_and_its_backoff(
    order, listed, sent, django_capture_on_commit_callbacks
):
    with mock.patch.object(tasks.outbox_drain_task, "apply_async"):
        good, bad = _commit(order, django_capture_on_commit_callbacks, "test.a", "test.bad")
    with mock.patch.object(tasks.outbox_dispatch_task, "apply_async") as retried:
        outbox.drain()
    assert sent == [good]
    assert OrderEvent.objects.get(pk=bad).dispatched_at is None  # still owed; its retry sends it
    (call,) = retried.call_args_list
    assert bad in call.kwargs["kwargs"]["event_ids"]
    assert call.kwargs["countdown"] == outbox.RETRY_AFTER_SECONDS


@pytest.mark.django_db
def test_what_one_drain_does_not_take_is_left_to_the_next(
    order, listed, sent, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(outbox, "DRAIN_BATCH", 2)
    monkeypatch.setattr(outbox, "DRAIN_ROUNDS", 1)
    with mock.patch.object(tasks.outbox_drain_task, "apply_async") as drains:
        ids = _commit(order, django_capture_on_commit_callbacks, "test.a", "test.a", "test.a")
        outbox.drain()
        assert sent == ids[:2]
        assert drains.call_count == 2  # the commit's, and the one the drain queued for the rest
        assert drains.call_args.kwargs["countdown"] == 0
        outbox.drain()
    assert sent == ids


@pytest.mark.django_db
def test_with_the_list_unreachable_the_commit_stands_and_the_sweep_sends_later(
    order, listed, sent, django_capture_on_commit_callbacks, caplog
):
    with mock.patch.object(listed, "pipeline", side_effect=ConnectionError("redis down")):
        (event_id,) = _commit(order, django_capture_on_commit_callbacks, "test.a")
    assert OrderEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).exists()
    assert any(r.name == "orders.outbox" and "sweep" in r.getMessage() for r in caplog.records)
    assert outbox.dispatch_pending() >= 1
    assert sent == [event_id]


@pytest.mark.django_db(transaction=True)
def test_a_worker_drains_what_placed_orders_listed(channel, warehouse, listed, sent):
    factories.stock(factories.ProductFactory(sku="MUG"), warehouse, 10)
    celery_app.control.purge()  # messages other tests left behind
    orders = [factories.place(channel, f"DRW-{i}", lines=[("MUG", 1)]) for i in range(3)]
    waiting = OrderEvent.objects.filter(order__in=orders, dispatched_at__isnull=True)
    assert waiting.exists()
    assert listed.llen(outbox.PENDING_KEY) == waiting.count()
    with running_worker():
        deadline = time.monotonic() + 30
        while waiting.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert not waiting.exists()
    assert listed.llen(outbox.PENDING_KEY) == 0
