"""Channels and carriers that answer 429, 5xx, too slowly or with something that is not JSON.

Every request is retried with exponential backoff (a fake ``sleep`` records
the waits, so nothing really sleeps), ``Retry-After`` is honoured, and when
the retries run out the work is parked with a clear error where staff look:
a pull on ``ChannelConnector.last_error`` (the beat leaves that channel alone
for a cool-down and keeps pulling the others); a tracking poll backs off per
shipment and, after ``MAX_POLL_FAILURES``, stops with a ``tracking_parked``
event on the order's timeline. Never a crash loop.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from channels_app import pulls
from channels_app.connectors import ConnectorError
from channels_app.connectors.base import Connector
from channels_app.models import ChannelConnector
from channels_app.tasks import pull_all_connected_task, pull_orders_task
from orders import fulfilment, tracking
from orders.models import Order, OrderEvent, Shipment
from orders.tasks import shipments_poll_due
from tests import factories
from tests.channels_app.payloads import shopify_order
from tests.orders.fulfilment.fake_servers import FakeEasyPost

SLOW = "slow"  # an answer that comes after the client's timeout


class ScriptedServer:
    """A local HTTP server: answers from ``script`` first (status, headers, raw body), then from ``route``."""

    def __init__(self, route):
        self.route = route  # fn(method, path, query, headers) -> (status, headers, body bytes)
        self.script: list[tuple] = []
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                url = urlparse(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append(url.path)
                if fake.script:
                    status, headers, body = fake.script.pop(0)
                else:
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    status, headers, body = fake.route(self.command, url.path, query, self.headers)
                if status == SLOW:
                    time.sleep(1.0)
                    status = 200
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = answer

            def log_message(self, *args):
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out hung up on a slow answer: expected here


def fail(status: int, headers: dict | None = None, body: bytes = b'{"errors": "try later"}') -> tuple:
    return status, headers or {}, body


NOT_JSON = (200, {}, b"<html><body>502 Bad Gateway</body></html>")
TIMEOUT = (SLOW, {}, b"{}")


# --- channels (Shopify pull) ---------------------------------------------------------------------


class Shop:
    """A Shopify store with one order, behind a scripted server."""

    TOKEN = "shpat_test"

    def __init__(self, order_id: int):
        self.orders = [{**shopify_order(order_id), "updated_at": "2026-11-20T10:00:00Z"}]
        self.http = ScriptedServer(self.route)

    def route(self, method, path, query, headers):
        if path.endswith("/orders.json"):
            return 200, {}, json.dumps({"orders": self.orders}).encode()
        return 404, {}, b'{"errors": "Not Found"}'


@pytest.fixture
def tee(warehouse):
    factories.stock(factories.ProductFactory(sku="TEE-RED-M"), warehouse, 50)


@pytest.fixture
def shop(channel, tee):
    fake = Shop(1001)
    pulls.connector_configure(
        channel=channel, kind="shopify", base_url=fake.http.url, token=Shop.TOKEN, api_version="2024-10"
    )
    yield fake
    fake.http.close()


@pytest.fixture
def quick_timeouts(monkeypatch):
    monkeypatch.setattr(Connector, "timeout", 0.3)


def _pull(channel):
    slept: list[float] = []
    return pulls.pull_orders(channel=channel, sleep=slept.append), slept


@pytest.mark.django_db
def test_429_retry_after_then_5xx_timeout_and_not_json_are_each_retried_and_the_pull_goes_through(
    channel, shop, quick_timeouts
):
    shop.http.script = [fail(429, {"Retry-After": "3"}), fail(503), TIMEOUT, NOT_JSON]
    result, slept = _pull(channel)
    assert result.imported == 1
    assert slept == [3.0, 2.0, 4.0, 8.0]  # Retry-After as said, then exponential backoff
    config = ChannelConnector.objects.get()
    assert config.last_error == ""
    assert config.cursor is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (fail(500), "gave up after 5 tries: HTTP 500 from GET"),
        (fail(429, {"Retry-After": "1"}), "gave up after 5 tries: HTTP 429"),
        (TIMEOUT, "gave up after 5 tries: TimeoutError"),
        (NOT_JSON, "gave up after 5 tries: The marketplace answered something that is not JSON"),
    ],
    ids=["5xx", "429", "timeout", "not-json"],
)
def test_a_channel_that_keeps_failing_is_parked_with_a_clear_error(channel, shop, quick_timeouts, answer, says):
    shop.http.script = [answer] * 5
    with pytest.raises(ConnectorError, match=says):
        _pull(channel)
    assert len(shop.http.requests) == 5  # bounded: five tries, no more
    config = ChannelConnector.objects.get()
    assert says in config.last_error
    assert config.cursor is None
    assert config.last_pull_at is not None
    assert Order.objects.count() == 0
    result, _ = _pull(channel)  # the store is back: nothing was lost
    assert result.imported == 1
    assert ChannelConnector.objects.get().last_error == ""


@pytest.mark.django_db
def test_a_long_retry_after_is_not_slept_through(channel, shop):
    shop.http.script = [fail(429, {"Retry-After": "3600"})]
    with pytest.raises(ConnectorError, match="rate limited, told to wait 3600 s"):
        _pull(channel)
    assert len(shop.http.requests) == 1
    assert "HTTP 429" in ChannelConnector.objects.get().last_error


@pytest.mark.django_db
def test_the_beat_keeps_pulling_other_channels_and_lets_the_failing_one_cool_down(
    channel, shop, warehouse, monkeypatch
):
    monkeypatch.setattr(Connector, "backoff_seconds", 0.0)  # the real task sleeps between tries
    down = Shop(2002)
    down.http.route = lambda *args: fail(503)
    other, _ = factories.channel_with_key("marketplace")
    other.locations.add(warehouse)
    pulls.connector_configure(channel=other, kind="shopify", base_url=down.http.url, token=Shop.TOKEN)
    try:
        assert pull_all_connected_task() == 2  # eager here: both pulls ran inside the beat task, no raise
        assert Order.objects.filter(channel=channel).count() == 1
        parked = ChannelConnector.objects.get(channel=other)
        assert "HTTP 503" in parked.last_error
        assert pull_orders_task(channel_id=other.pk).startswith("failed: gave up after 5 tries")

        asked = len(down.http.requests)
        assert pulls.connected_channel_ids() == [channel.pk]  # cooling down
        assert pull_all_connected_task() == 1
        assert len(down.http.requests) == asked  # the failing store was left alone
        later = timezone.now() + pulls.PULL_COOL_DOWN + timedelta(minutes=1)
        assert sorted(pulls.connected_channel_ids(now=later)) == sorted([channel.pk, other.pk])
    finally:
        down.http.close()


@pytest.mark.django_db
def test_a_tracking_push_that_keeps_failing_is_retried_by_the_sweep_then_parked(
    channel, shop, monkeypatch, django_capture_on_commit_callbacks
):
    from channels_app.models import ConnectorShipmentPush
    from channels_app.tasks import connector_pushes_retry_task

    monkeypatch.setattr(Connector, "backoff_seconds", 0.0)  # the real task sleeps between tries
    _pull(channel)
    order = Order.objects.get()
    shop.http.route = lambda *args: fail(503)  # the store goes down after the pull
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.shipment_ship(shipment=order.shipments.get(), carrier="UPS", tracking_number="1Z1", actor="t")
    push = ConnectorShipmentPush.objects.get()
    assert (push.pushed_at, push.attempts) == (None, 1)
    assert "gave up after 5 tries: HTTP 503" in push.last_error

    assert connector_pushes_retry_task() == 0
    push.refresh_from_db()
    assert push.attempts == 2
    ConnectorShipmentPush.objects.filter(pk=push.pk).update(attempts=pulls.MAX_PUSH_ATTEMPTS - 1)
    assert connector_pushes_retry_task() == 0
    asked = len(shop.http.requests)
    assert pulls.pending_push_ids() == []  # parked after MAX_PUSH_ATTEMPTS, its error kept
    assert connector_pushes_retry_task() == 0
    assert len(shop.http.requests) == asked
    assert "HTTP 503" in ConnectorShipmentPush.objects.get().last_error


# --- carriers (EasyPost tracking polls) ----------------------------------------------------------


class Carrier:
    """EasyPost behind a scripted server: the fake's documented answers unless a failure is scripted."""

    def __init__(self):
        self.easypost = FakeEasyPost()  # used for its answers only; its own server is not started
        self.http = ScriptedServer(self.route)

    def route(self, method, path, query, headers):
        status, payload = FakeEasyPost.route(self.easypost, method, path, None, headers)
        return status, {}, json.dumps(payload).encode()


@pytest.fixture
def carrier(settings):
    fake = Carrier()
    settings.EASYPOST_API_KEY = FakeEasyPost.API_KEY
    settings.EASYPOST_API_BASE = fake.http.url + "/v2"
    settings.OMS_TRACKING_PROVIDER = "easypost"
    settings.EASYPOST_TIMEOUT_SECONDS = 0.3
    yield fake
    fake.http.close()
    fake.easypost.server.server_close()


def _shipped(channel, ext: str) -> Shipment:
    order = factories.place(channel, ext, [("TEE-RED-M", 1)])
    return fulfilment.shipment_ship(
        shipment=order.shipments.get(), carrier="usps", tracking_number="9400110898825022579493", actor="t"
    )


@pytest.mark.django_db
def test_a_carrier_429_backs_off_at_least_as_long_as_it_asks(channel, tee, carrier):
    shipment = _shipped(channel, "T-1")
    now = timezone.now()
    carrier.http.script = [fail(429, {"Retry-After": "7200"}, b'{"error": {"message": "Rate limit"}}')]
    assert tracking.shipment_poll(shipment_id=shipment.pk, now=now) == "failed"
    shipment.refresh_from_db()
    assert shipment.next_poll_at == now + timedelta(hours=2)  # not the 5 minutes of the first backoff


BAD_TRACKER = json.dumps(
    {"id": "trk_1", "tracking_details": [{"status": "in_transit", "datetime": "the day after tomorrow"}]}
).encode()


@pytest.mark.django_db
def test_a_carrier_that_keeps_failing_backs_off_then_the_shipment_is_parked_with_the_reason(channel, tee, carrier):
    shipment = _shipped(channel, "T-1")
    kinds = [fail(503), TIMEOUT, NOT_JSON, (200, {}, b"[]"), (200, {}, BAD_TRACKER)]
    now = timezone.now()
    waits = []
    for n in range(1, tracking.MAX_POLL_FAILURES):
        carrier.http.script = [kinds[n % len(kinds)]]
        assert tracking.shipment_poll(shipment_id=shipment.pk, now=now) == "failed"
        shipment.refresh_from_db()
        assert shipment.poll_failures == n
        waits.append(shipment.next_poll_at - now)
        assert tracking.due_shipment_ids(now=now) == []  # not polled again before its time
    assert waits == [tracking.backoff(n) for n in range(1, tracking.MAX_POLL_FAILURES)]
    assert waits[-1] == tracking.BACKOFF_MAX  # bounded
    assert not OrderEvent.objects.filter(type=tracking.TRACKING_PARKED).exists()

    carrier.http.script = [fail(503)]
    assert tracking.shipment_poll(shipment_id=shipment.pk, now=now) == "parked"
    shipment.refresh_from_db()
    assert shipment.next_poll_at is None
    assert shipment.status == "shipped"
    event = OrderEvent.objects.get(order_id=shipment.order_id, type=tracking.TRACKING_PARKED)
    assert event.data["failures"] == tracking.MAX_POLL_FAILURES
    assert "EasyPost answered 503" in event.data["error"]
    later = now + timedelta(days=30)
    assert tracking.due_shipment_ids(now=later) == []  # parked: the beat leaves it alone
    assert shipments_poll_due() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (TIMEOUT, "EasyPost could not be reached"),
        (NOT_JSON, "not a JSON object"),
        ((200, {}, BAD_TRACKER), "ValueError"),
    ],
    ids=["timeout", "not-json", "odd-answer"],
)
def test_one_failing_shipment_does_not_stop_the_round(channel, tee, carrier, caplog, answer, says):
    first, second = _shipped(channel, "T-1"), _shipped(channel, "T-2")
    carrier.easypost.add_detail("in_transit", "2026-11-21T08:30:00Z", "Arrived at USPS facility")
    carrier.http.script = [answer]
    outcome = tracking.poll_round(now=timezone.now() + timedelta(seconds=1))
    assert outcome == {first.pk: "failed", second.pk: "moved:in_transit"}
    assert says in caplog.text
    assert Order.objects.get(pk=second.order_id).status == "shipped"
