"""Outbound webhooks: from the outbox, signed, deduplicable, retried with backoff, logged per attempt."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from channels_app import webhooks
from channels_app.models import WebhookDelivery, WebhookMessage
from orders import fulfilment, outbox
from orders.models import OrderEvent
from tests import factories

SECRET = "whsec-test-123"


class Receiver:
    """A channel's webhook URL on 127.0.0.1: verifies signatures, can be 'down' for N requests."""

    def __init__(self, secret=SECRET):
        self.secret = secret.encode()
        self.down = 0
        self.requests = []  # (status answered, headers, body) of every request
        self.accepted = []  # event ids taken, after dedupe
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(receiver.secret, body, hashlib.sha256).hexdigest()
                if receiver.down > 0:
                    receiver.down -= 1
                    status = 503
                elif not hmac.compare_digest(expected, self.headers.get("X-OMS-Signature", "")):
                    status = 401
                else:
                    status = 204
                    event_id = self.headers["X-OMS-Event-Id"]
                    if event_id not in receiver.accepted:
                        receiver.accepted.append(event_id)
                receiver.requests.append((status, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self):
        return [json.loads(body) for status, _, body in self.requests if status == 204]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def tee(warehouse):
    product = factories.ProductFactory(sku="TEE-RED-M")
    factories.stock(product, warehouse, 10)
    return product


def test_each_event_arrives_once_signed_after_an_outage(channel, tee, receiver, django_capture_on_commit_callbacks):
    endpoint = webhooks.webhook_endpoint_create(
        channel=channel, url=receiver.url, events=["order.received", "shipment.*"], secret=SECRET
    )
    receiver.down = 3  # the receiver is out: the first attempt (and the first retry) fail
    with django_capture_on_commit_callbacks(execute=True):
        order = factories.place(channel, lines=[("TEE-RED-M", 1)])
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.shipment_ship(shipment=order.shipments.get(), carrier="ups", tracking_number="1Z9", actor="test")
    assert [status for status, _, _ in receiver.requests] == [503, 503]
    assert receiver.accepted == []
    messages = WebhookMessage.objects.filter(endpoint=endpoint)
    assert sorted(messages.values_list("event_type", flat=True)) == ["order.received", "shipment.shipped"]
    assert set(messages.values_list("status", "attempts")) == {("pending", 1)}

    # Not yet due: the sweep leaves them alone.
    assert webhooks.webhooks_deliver_due() == 0
    assert len(receiver.requests) == 2

    soon = timezone.now() + webhooks.backoff(1) + timedelta(seconds=1)
    assert webhooks.webhooks_deliver_due(now=soon) == 1  # one more 503, then a 204
    later = soon + webhooks.backoff(2) + timedelta(seconds=1)
    assert webhooks.webhooks_deliver_due(now=later) == 1
    assert webhooks.webhooks_deliver_due(now=later + timedelta(days=1)) == 0  # nothing left

    assert sorted(messages.values_list("status", flat=True)) == ["delivered", "delivered"]
    assert len(receiver.accepted) == 2
    assert sorted(str(m.event_id) for m in messages) == sorted(receiver.accepted)
    bodies = {b["type"]: b for b in receiver.bodies()}
    assert bodies["order.received"]["order"]["external_id"] == "EXT-1"
    assert bodies["shipment.shipped"]["data"]["tracking_number"] == "1Z9"
    for _status, headers, body in receiver.requests:
        assert headers["x-oms-event-id"] == json.loads(body)["id"]
        assert headers["x-oms-event"] == json.loads(body)["type"]
    shipped = messages.get(event_type="shipment.shipped")
    attempts = list(shipped.deliveries.order_by("attempt").values_list("attempt", "status_code"))
    assert attempts[-1][1] == 204
    assert WebhookDelivery.objects.filter(status_code=503).count() == 3


def test_a_redispatched_event_is_not_sent_twice(channel, tee, receiver, django_capture_on_commit_callbacks):
    webhooks.webhook_endpoint_create(channel=channel, url=receiver.url, events=["order.*"], secret=SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        factories.place(channel, lines=[("TEE-RED-M", 1)])
    sent = len(receiver.requests)
    assert sent == OrderEvent.objects.count()  # every event of the order, each once ("order.*")
    assert {"order.placed", "order.received"} <= {b["type"] for b in receiver.bodies()}
    event = OrderEvent.objects.get(type="received")
    OrderEvent.objects.filter(pk=event.pk).update(dispatched_at=None)  # as if the outbox ran it again
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.dispatch(event_id=event.pk)
    assert len(receiver.requests) == sent
    assert WebhookMessage.objects.filter(source_event_id=event.pk).count() == 1


def test_lost_dispatch_tasks_are_swept_later(channel, tee, receiver, django_capture_on_commit_callbacks):
    """The broker is down when the order commits: the task never runs; the outbox sweep sends it later."""
    webhooks.webhook_endpoint_create(channel=channel, url=receiver.url, events=["order.received"], secret=SECRET)
    with django_capture_on_commit_callbacks(execute=False):
        factories.place(channel, lines=[("TEE-RED-M", 1)])
    assert receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        outbox.dispatch_pending()
    assert [b["type"] for b in receiver.bodies()] == ["order.received"]


def test_only_the_orders_channel_and_wanted_events(channel, tee, receiver, django_capture_on_commit_callbacks):
    other = factories.ChannelFactory(code="market")
    webhooks.webhook_endpoint_create(channel=other, url=receiver.url, events=["*"], secret=SECRET)
    webhooks.webhook_endpoint_create(channel=channel, url=receiver.url, events=["order.cancelled"], secret=SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        order = factories.place(channel, lines=[("TEE-RED-M", 1)])
    assert receiver.requests == []
    from orders.services import cancel_order

    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(order=order, reason="customer", actor="test")
    assert [b["type"] for b in receiver.bodies()] == ["order.cancelled"]


def test_a_wrong_secret_is_refused_by_the_receiver_and_retried(channel, tee, django_capture_on_commit_callbacks):
    receiver = Receiver(secret="another-secret")
    try:
        webhooks.webhook_endpoint_create(channel=channel, url=receiver.url, events=["order.received"], secret=SECRET)
        with django_capture_on_commit_callbacks(execute=True):
            factories.place(channel, lines=[("TEE-RED-M", 1)])
        assert [s for s, _, _ in receiver.requests] == [401]
        assert receiver.accepted == []
        assert WebhookMessage.objects.get().status == "pending"
    finally:
        receiver.close()


def test_gives_up_after_max_attempts_and_staff_can_retry(channel, tee, receiver, django_capture_on_commit_callbacks):
    webhooks.webhook_endpoint_create(channel=channel, url=receiver.url, events=["order.received"], secret=SECRET)
    receiver.down = webhooks.MAX_ATTEMPTS
    with django_capture_on_commit_callbacks(execute=True):
        factories.place(channel, lines=[("TEE-RED-M", 1)])
    now = timezone.now()
    for _ in range(webhooks.MAX_ATTEMPTS):
        now += timedelta(seconds=webhooks.RETRY_MAX_SECONDS + 1)
        webhooks.webhooks_deliver_due(now=now)
    message = WebhookMessage.objects.get()
    assert (message.status, message.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    assert message.deliveries.count() == webhooks.MAX_ATTEMPTS
    webhooks.webhook_message_retry(message=message)
    assert webhooks.webhooks_deliver_due() == 1
    assert receiver.accepted == [str(message.event_id)]


def test_unreachable_url_is_logged_as_an_attempt(channel, tee, django_capture_on_commit_callbacks):
    webhooks.webhook_endpoint_create(channel=channel, url="http://127.0.0.1:9/none", events=["order.*"], secret=SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        factories.place(channel, lines=[("TEE-RED-M", 1)])
    delivery = WebhookDelivery.objects.first()
    assert delivery.status_code is None
    assert "Connection refused" in delivery.error or "URLError" in delivery.error


def test_backoff_is_exponential_and_capped():
    assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert webhooks.backoff(40).total_seconds() == webhooks.RETRY_MAX_SECONDS


def test_a_channel_registers_its_url_and_sees_the_secret_once(channel_api, channel):
    created = channel_api.post(
        "/api/v1/webhook-endpoints/", {"url": "https://shop.example/hooks", "events": ["order.*"]}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["channel"] == "webstore"
    assert len(body["secret"]) >= 32
    listed = channel_api.get("/api/v1/webhook-endpoints/").json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    other = webhooks.webhook_endpoint_create(
        channel=factories.ChannelFactory(code="market"), url="https://m.example/h", events=["*"]
    )
    assert channel_api.delete(f"/api/v1/webhook-endpoints/{other.pk}/").status_code == 404
    assert channel_api.delete(f"/api/v1/webhook-endpoints/{body['id']}/").status_code == 204
    bad = channel_api.post("/api/v1/webhook-endpoints/", {"url": "nope", "events": []}, format="json")
    assert bad.status_code == 400


@pytest.mark.parametrize("rows", [1, 20])
def test_endpoint_list_costs_the_same_queries_whatever_its_size(staff_api, channel, rows, django_assert_num_queries):
    for i in range(rows):
        webhooks.webhook_endpoint_create(channel=channel, url=f"https://x.example/{i}", events=["*"])
    with django_assert_num_queries(2):  # the token with its user, then one page with its channels
        response = staff_api.get("/api/v1/webhook-endpoints/")
    assert len(response.json()["results"]) == rows
