"""Redis unreachable when an order is placed: the order is stored and answered, and what follows goes out later, once.

Celery is pointed at a closed port (the broker is down, as when Redis is
stopped): placing an order through the API still answers 201 and stores it;
no webhook and no e-mail goes out. When Redis is back, the outbox sweep (the
beat task) sends each webhook and each e-mail exactly once, counted at a fake
webhook receiver and in the mail outbox; running the sweep again, or a
dispatch task that arrives late, sends nothing twice. A ``redis``-marked
variant does the "back" half with a real worker consuming from Redis.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from channels_app.models import WebhookMessage
from channels_app.webhooks import webhook_endpoint_create
from config.celery import app as celery_app
from orders import fulfilment
from orders import tasks as order_tasks
from orders.models import Order, OrderEvent
from tests import factories
from tests.workers import running_worker

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused, like Redis down
WANTED = ["order.received", "shipment.shipped"]


class WebhookReceiver:
    """A channel's webhook URL: answers 200 and remembers every delivery (event id, event name)."""

    def __init__(self):
        self.deliveries: list[tuple[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.deliveries.append((self.headers["X-OMS-Event-Id"], json.loads(body)["type"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def by_name(self) -> Counter:
        return Counter(name for _, name in self.deliveries)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(channel):
    fake = WebhookReceiver()
    webhook_endpoint_create(channel=channel, url=fake.url, events=WANTED)
    yield fake
    fake.close()


def _reset_broker_connections():
    """Forget the cached connection pool, so the next publish connects to ``broker_url`` as it is now."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def redis_down():
    """Celery with a real (not eager) broker that refuses connections; restored afterwards."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager, conf.broker_transport_options
    conf.broker_url, conf.task_always_eager = CLOSED_PORT_BROKER, False
    # kombu's default reconnect schedule (2 s, 4 s ...) only slows the refusal down; the outcome is the same.
    conf.broker_transport_options = {**(conf.broker_transport_options or {}), "max_retries": 0}
    _reset_broker_connections()
    yield
    conf.broker_url, conf.task_always_eager, conf.broker_transport_options = saved
    _reset_broker_connections()


@pytest.fixture
def shop(channel, warehouse):
    factories.stock(factories.ProductFactory(sku="TEE-RED-M"), warehouse, 10)
    return channel


def _place_and_ship_while_redis_is_down(channel_api, on_commit) -> Order:
    payload = factories.order_payload("DOWN-1")
    with on_commit(execute=True):
        response = channel_api.post("/api/v1/orders/", payload, format="json")
    assert response.status_code == 201, response.content
    order = Order.objects.get(external_id="DOWN-1")
    assert response.json()["number"] == order.number
    assert order.status == "received"
    assert order.lines.count() == 1
    with on_commit(execute=True):
        fulfilment.shipment_ship(shipment=order.shipments.get(), carrier="ups", tracking_number="1Z9", actor="test")
    return order


@pytest.mark.django_db
def test_orders_are_taken_while_redis_is_down_and_everything_goes_out_once_when_it_is_back(
    shop, channel_api, receiver, redis_down, django_capture_on_commit_callbacks, caplog
):
    order = _place_and_ship_while_redis_is_down(channel_api, django_capture_on_commit_callbacks)
    # The broker error was logged for staff, not raised to the channel.
    assert any(r.name == "orders.outbox" and r.levelno >= logging.WARNING for r in caplog.records)
    waiting = OrderEvent.objects.filter(order=order, dispatched_at__isnull=True)
    assert waiting.filter(type__in=["received", "shipment.shipped"]).count() == 2
    assert receiver.deliveries == []
    assert mail.outbox == []
    assert not WebhookMessage.objects.exists()

    # Redis is back (the embedded default: tasks run in-process); the beat's sweep runs.
    celery_app.conf.task_always_eager = True
    with django_capture_on_commit_callbacks(execute=True):
        sent = order_tasks.outbox_sweep.delay().get()
    assert sent >= 2
    assert not OrderEvent.objects.filter(order=order, dispatched_at__isnull=True).exists()
    assert receiver.by_name() == Counter({"order.received": 1, "shipment.shipped": 1})
    assert [m.subject for m in mail.outbox] == [f"Your order {order.number} is on its way"]

    # The sweep again, and the dispatch task that was lost arriving late: nothing twice.
    event_ids = list(OrderEvent.objects.filter(order=order).values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        assert order_tasks.outbox_sweep.delay().get() == 0
        assert order_tasks.outbox_dispatch_task.delay(event_ids=event_ids).get() == 0
    assert len(receiver.deliveries) == 2
    assert len({eid for eid, _ in receiver.deliveries}) == 2
    assert len(mail.outbox) == 1
    assert set(WebhookMessage.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.mark.django_db
def test_a_broker_outage_is_not_a_client_error(shop, channel_api, redis_down, django_capture_on_commit_callbacks):
    """A retry of the same order while Redis is still down answers as a retry (200), not a duplicate order."""
    payload = factories.order_payload("DOWN-2")
    with django_capture_on_commit_callbacks(execute=True):
        first = channel_api.post("/api/v1/orders/", payload, format="json")
        again = channel_api.post("/api/v1/orders/", payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert Order.objects.filter(external_id="DOWN-2").count() == 1


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_a_real_worker_the_sweep_sends_each_event_once_after_redis_is_back(shop, channel_api, receiver):
    from tests.test_faults_outbox import CLOSED_PORT_BROKER as down

    conf = celery_app.conf
    real_broker, options = conf.broker_url, conf.broker_transport_options
    conf.broker_url, conf.task_always_eager = down, False
    conf.broker_transport_options = {**(options or {}), "max_retries": 0}
    _reset_broker_connections()
    try:
        payload = factories.order_payload("DOWN-3")
        assert channel_api.post("/api/v1/orders/", payload, format="json").status_code == 201
        order = Order.objects.get(external_id="DOWN-3")
        fulfilment.shipment_ship(shipment=order.shipments.get(), carrier="ups", tracking_number="1Z8", actor="test")
        assert OrderEvent.objects.filter(order=order, dispatched_at__isnull=True).count() >= 2
    finally:
        conf.broker_url, conf.broker_transport_options = real_broker, options
        _reset_broker_connections()
    assert receiver.deliveries == []
    assert mail.outbox == []

    celery_app.control.purge()  # messages other tests left behind
    with running_worker():
        order_tasks.outbox_sweep.delay()
        assert _wait_for(lambda: len(receiver.deliveries) >= 2)
        order_tasks.outbox_sweep.delay()  # a doubled beat
        time.sleep(1.5)
    assert receiver.by_name() == Counter({"order.received": 1, "shipment.shipped": 1})
    assert not OrderEvent.objects.filter(order=order, dispatched_at__isnull=True).exists()
