"""A worker killed in the middle of a channel import or a tracking poll: the next run finishes the job, once.

A kill is a ``BaseException`` thrown from the database driver at a chosen
write (what a SIGKILL looks like to the data: the open transaction never
commits; no ``except Exception`` handler runs). Tasks are ``acks_late`` with
``reject_on_worker_lost``, so the broker hands the job to the next worker,
which here is simply the same call run again. A ``postgres``-marked test does
it for real: ``manage.py import_orders`` in a subprocess, SIGKILLed half way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from channels_app.models import ChannelConnector, InboundOrder
from channels_app.pulls import connector_configure, pull_orders
from inventory.selectors import stock_drift
from orders import fulfilment, tracking
from orders.models import Order, OrderEvent, Shipment, TrackingEvent
from tests import factories
from tests.channels_app.payloads import shopify_order
from tests.channels_app.test_connectors import FakeShopify
from tests.orders.fulfilment.fake_servers import FakeEasyPost


class WorkerKilled(BaseException):
    """The process died: not an ``Exception``, so nothing on the way catches it and records a failure."""


@contextmanager
def killed_at(write: int, table: str):
    """Kill the worker at its ``write``-th INSERT/UPDATE/DELETE touching ``table``."""
    seen = 0

    def wrapper(execute, sql, params, many, context):
        nonlocal seen
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and table in sql:
            seen += 1
            if seen == write:
                raise WorkerKilled(f"killed at write {seen} to {table}")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


def writes_of(call) -> int:
    """How many write statements ``call`` sends (run once inside a transaction that is rolled back)."""
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        return execute(sql, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(counter):
        call()
        transaction.set_rollback(True)
    return count


@pytest.fixture
def tee(warehouse):
    return factories.stock(factories.ProductFactory(sku="TEE-RED-M"), warehouse, 500)


def _assert_each_order_once(external_ids: list[str]) -> None:
    placed = list(Order.objects.values_list("external_id", flat=True))
    assert sorted(placed) == sorted(external_ids)
    assert not InboundOrder.objects.filter(status=InboundOrder.Status.FAILED).exists()
    digests = list(InboundOrder.objects.values_list("digest", flat=True))
    assert len(digests) == len(set(digests)) == len(external_ids)  # each payload staged once
    assert stock_drift() == []


# --- channel import (a file) ---------------------------------------------------------------------


def _export(tmp_path: Path, n: int) -> tuple[Path, list[str]]:
    orders = [shopify_order(7000 + i, qty=1) for i in range(n)]
    path = tmp_path / "orders.json"
    path.write_text(json.dumps({"orders": orders}))
    return path, [str(o["id"]) for o in orders]


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", ["1", "5"])
def test_an_import_killed_half_way_is_finished_by_the_next_run(channel, tee, tmp_path, batch_size):
    path, ids = _export(tmp_path, 12)
    args = ("import_orders", str(path), "--channel", channel.code, "--format", "shopify", "--no-progress")
    half_way = writes_of(lambda: call_command(*args, "--batch-size", batch_size)) // 2
    with pytest.raises(WorkerKilled), killed_at(half_way, ""):
        call_command(*args, "--batch-size", batch_size)
    assert InboundOrder.objects.count() > 0
    assert Order.objects.count() < 12

    call_command(*args, "--batch-size", batch_size)
    _assert_each_order_once(ids)
    assert set(InboundOrder.objects.values_list("status", flat=True)) == {"imported"}
    tee.refresh_from_db()
    assert tee.reserved == 12

    call_command(*args)  # and once more: all duplicates, nothing new
    _assert_each_order_once(ids)


# --- channel pull (a connector and its cursor) ---------------------------------------------------


@pytest.fixture
def shopify():
    fake = FakeShopify()
    yield fake
    fake.http.close()


@pytest.mark.django_db
def test_a_pull_killed_half_way_leaves_the_cursor_and_the_next_pull_finishes(channel, tee, shopify):
    shopify.orders = [{**shopify_order(8000 + i, qty=1), "updated_at": f"2026-11-20T1{i}:00:00Z"} for i in range(5)]
    connector_configure(channel=channel, kind="shopify", base_url=shopify.http.url, token=shopify.TOKEN)
    half_way = writes_of(lambda: pull_orders(channel=channel, sleep=lambda s: None)) // 2
    with pytest.raises(WorkerKilled), killed_at(half_way, ""):
        pull_orders(channel=channel, sleep=lambda s: None)
    config = ChannelConnector.objects.get()
    assert config.cursor is None  # the cursor moves only after a whole pull
    assert Order.objects.count() < 5

    result = pull_orders(channel=channel, sleep=lambda s: None)
    assert result.failed == 0
    _assert_each_order_once([str(8000 + i) for i in range(5)])
    config.refresh_from_db()
    assert config.cursor == datetime(2026, 11, 20, 14, tzinfo=UTC)
    assert config.last_error == ""
    again = pull_orders(channel=channel, sleep=lambda s: None)
    assert again.imported == 0
    _assert_each_order_once([str(8000 + i) for i in range(5)])


# --- tracking poll -------------------------------------------------------------------------------


@pytest.fixture
def easypost(settings):
    with FakeEasyPost() as fake:
        settings.EASYPOST_API_KEY = FakeEasyPost.API_KEY
        settings.EASYPOST_API_BASE = fake.url + "/v2"
        settings.OMS_TRACKING_PROVIDER = "easypost"
        yield fake


def _poll_state(shipment: Shipment) -> tuple:
    shipment.refresh_from_db()
    order = Order.objects.get(pk=shipment.order_id)
    return (
        shipment.status,
        order.status,
        TrackingEvent.objects.filter(shipment=shipment).count(),
        sorted(OrderEvent.objects.filter(order=order).values_list("type", flat=True)),
    )


@pytest.mark.django_db
def test_a_tracking_poll_killed_at_any_write_is_finished_by_the_next_poll_once(channel, tee, easypost):
    order = factories.place(channel, "TRK-1", [("TEE-RED-M", 1)])
    shipment = fulfilment.shipment_ship(
        shipment=order.shipments.get(), carrier="usps", tracking_number="9400110898825022579493", actor="t"
    )
    easypost.add_detail("in_transit", "2026-11-21T08:30:00Z", "Arrived at USPS facility")
    easypost.add_detail("delivered", "2026-11-23T15:04:00Z", "Delivered, in mailbox")
    before = _poll_state(shipment)
    killed = 0
    for write in range(1, 40):  # every write the poll makes, in turn
        try:
            with killed_at(write, ""):
                tracking.shipment_poll(shipment_id=shipment.pk)
        except WorkerKilled:
            killed += 1
            if connection.needs_rollback:
                pytest.fail(f"a poll killed at write {write} broke the transaction: its writes are not atomic")
            assert _poll_state(shipment) == before, f"a poll killed at write {write} left part of its work"
        else:
            break  # this poll got through: no write left to kill
    assert killed >= 3

    status, order_status, checkpoints, events = _poll_state(shipment)
    assert (status, order_status, checkpoints) == ("delivered", "delivered", 2)
    assert events.count("shipment.in_transit") == events.count("shipment.delivered") == events.count("delivered") == 1
    assert tracking.shipment_poll(shipment_id=shipment.pk) == "closed"
    assert _poll_state(shipment)[2:] == (checkpoints, events)


# --- the real thing: a subprocess SIGKILLed half way through an import ---------------------------


def _database_url() -> str:
    db = settings.DATABASES["default"]
    host = db.get("HOST") or "127.0.0.1"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_process_sigkilled_half_way_is_finished_by_the_next_run(channel, tee, tmp_path):
    n = 150
    path, ids = _export(tmp_path, n)
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": ""}  # tasks in-process: no broker needed
    cmd = [sys.executable, "manage.py", "import_orders", str(path), "--channel", channel.code,
           "--format", "shopify", "--batch-size", "1", "--jobs", "2", "--no-progress"]  # fmt: skip
    worker = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while Order.objects.count() < 10 and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    assert worker.returncode == -signal.SIGKILL
    # Its placing processes die with it: none goes on placing beside the next run, or waits forever.
    deadline = time.monotonic() + 10
    while _running(str(path)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running(str(path)) == []
    done = Order.objects.count()
    assert 10 <= done < n, f"the kill came too late to prove anything ({done} of {n})"

    call_command("import_orders", str(path), "--channel", channel.code, "--format", "shopify", "--no-progress")
    _assert_each_order_once(ids)
    tee.refresh_from_db()
    assert tee.reserved == n


def _running(argument: str) -> list[int]:
    """Live processes (not zombies) with ``argument`` on their command line."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            listed = argument.encode() in (entry / "cmdline").read_bytes().split(b"\0")
            if listed and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return found
