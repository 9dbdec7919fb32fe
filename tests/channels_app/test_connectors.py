"""Pull connectors against local fake Shopify and WooCommerce servers (documented payload shapes)."""

import base64
import io
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command

from channels_app.connectors import ConnectorError
from channels_app.models import ChannelConnector, ConnectorShipmentPush, InboundOrder
from channels_app.pulls import connector_configure, pull_orders
from orders import fulfilment
from orders.models import Order
from tests import factories
from tests.channels_app.payloads import shopify_order, woo_order


class FakeMarketplace:
    """A local HTTP server; ``script`` holds canned failures to answer before the real thing."""

    def __init__(self, route):
        self.route = route  # fn(method, path, query, headers, body) -> (status, headers, json)
        self.requests = []
        self.script = []  # [(status, headers)] answered first, one per request
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def handle_any(self):
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append((self.command, url.path, query, dict(self.headers), body))
                if fake.script:
                    status, headers, payload = *fake.script.pop(0), {"errors": "try later"}
                else:
                    status, headers, payload = fake.route(self.command, url.path, query, self.headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = handle_any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeShopify:
    TOKEN = "shpat_test"
    PAGE = 2  # small pages, to cross a page boundary with a few orders

    def __init__(self):
        self.orders = []
        self.fulfillments = []
        self.http = FakeMarketplace(self.route)

    def route(self, method, path, query, headers, body):
        if headers.get("X-Shopify-Access-Token") != self.TOKEN:
            return 401, {}, {"errors": "[API] Invalid API key or access token"}
        prefix = "/admin/api/2024-10/"
        if method == "GET" and path == prefix + "orders.json":
            if "page_info" in query:  # cursor pages carry nothing else
                assert set(query) <= {"page_info", "limit"}
                start = int(query["page_info"])
            else:
                start = 0
                assert query["status"] == "any"
            since = query.get("updated_at_min")
            rows = [o for o in self.orders if since is None or o["updated_at"] >= since]
            rows.sort(key=lambda o: o["updated_at"])
            page = rows[start : start + self.PAGE]
            headers = {}
            if start + self.PAGE < len(rows):
                nxt = f"{self.http.url}{prefix}orders.json?limit={self.PAGE}&page_info={start + self.PAGE}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            return 200, headers, {"orders": page}
        if method == "GET" and path.endswith("/fulfillment_orders.json"):
            order_id = int(path.split("/")[-2])
            done = any(f["order_id"] == order_id for f in self.fulfillments)
            return (
                200,
                {},
                {
                    "fulfillment_orders": [
                        {"id": 9000 + order_id, "order_id": order_id, "status": "closed" if done else "open"}
                    ]
                },
            )
        if method == "POST" and path == prefix + "fulfillments.json":
            fo_id = body["fulfillment"]["line_items_by_fulfillment_order"][0]["fulfillment_order_id"]
            self.fulfillments.append({"order_id": fo_id - 9000, **body["fulfillment"]})
            return 201, {}, {"fulfillment": {"id": 1, "status": "success"}}
        return 404, {}, {"errors": "Not Found"}


@pytest.fixture
def shopify():
    fake = FakeShopify()
    yield fake
    fake.http.close()


@pytest.fixture
def tee(warehouse):
    factories.stock(factories.ProductFactory(sku="TEE-RED-M"), warehouse, 50)


def connect_shopify(channel, fake):
    return connector_configure(
        channel=channel, kind="shopify", base_url=fake.http.url, token=fake.TOKEN, api_version="2024-10"
    )


def stamp(order, updated_at):
    order["updated_at"] = updated_at
    return order


def test_shopify_pull_places_each_order_once_across_pages(channel, tee, shopify):
    shopify.orders = [
        stamp(shopify_order(1001), "2026-11-20T10:00:00Z"),
        stamp(shopify_order(1002), "2026-11-20T11:00:00Z"),
        stamp(shopify_order(1003, qty=1), "2026-11-20T12:00:00Z"),
    ]
    connect_shopify(channel, shopify)
    result = pull_orders(channel=channel, sleep=lambda s: None)
    assert (result.imported, result.duplicates, result.failed) == (3, 0, 0)
    assert sum(1 for r in shopify.http.requests if r[1].endswith("orders.json")) == 2  # two pages
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["1001", "1002", "1003"]
    config = ChannelConnector.objects.get()
    assert config.cursor == datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert set(InboundOrder.objects.values_list("way_in", "format", "status")) == {("pull", "shopify", "imported")}

    # Again and again: the boundary order comes back (updated_at_min is inclusive), nothing new is stored.
    staged = InboundOrder.objects.count()
    for _ in range(2):
        again = pull_orders(channel=channel, sleep=lambda s: None)
        assert (again.imported, again.failed) == (0, 0)
    assert shopify.http.requests[-1][2]["updated_at_min"] == "2026-11-20T12:00:00+00:00"
    assert Order.objects.count() == 3
    assert InboundOrder.objects.count() == staged

    # A new order on the marketplace: only it is placed.
    shopify.orders.append(stamp(shopify_order(1004), "2026-11-21T08:00:00Z"))
    assert pull_orders(channel=channel, sleep=lambda s: None).imported == 1
    assert Order.objects.count() == 4


def test_429_retry_after_is_honoured_and_5xx_retried(channel, tee, shopify):
    shopify.orders = [stamp(shopify_order(1), "2026-11-20T10:00:00Z")]
    connect_shopify(channel, shopify)
    shopify.http.script = [(429, {"Retry-After": "2.0"}), (503, {}), (502, {})]
    slept = []
    result = pull_orders(channel=channel, sleep=slept.append)
    assert result.imported == 1
    assert slept[0] == 2.0  # what Retry-After said
    assert slept[1:] == [2.0, 4.0]  # then exponential backoff for the 5xx
    assert len(shopify.http.requests) == 4


def test_a_marketplace_that_stays_down_leaves_the_cursor_and_says_why(channel, tee, shopify):
    shopify.orders = [stamp(shopify_order(1), "2026-11-20T10:00:00Z")]
    connect_shopify(channel, shopify)
    shopify.http.script = [(500, {})] * 5
    with pytest.raises(ConnectorError, match="gave up after 5 tries: HTTP 500"):
        pull_orders(channel=channel, sleep=lambda s: None)
    config = ChannelConnector.objects.get()
    assert config.cursor is None
    assert "HTTP 500" in config.last_error
    assert Order.objects.count() == 0
    assert pull_orders(channel=channel, sleep=lambda s: None).imported == 1  # back up: nothing was lost


def test_failure_on_the_second_page_keeps_the_first_and_the_cursor(channel, tee, shopify):
    shopify.orders = [stamp(shopify_order(i), f"2026-11-20T1{i}:00:00Z") for i in range(1, 4)]
    connect_shopify(channel, shopify)
    original = shopify.http.route

    def broken_second_page(method, path, query, headers, body):
        if "page_info" in query:
            return 500, {}, {"errors": "boom"}
        return original(method, path, query, headers, body)

    shopify.http.route = broken_second_page
    with pytest.raises(ConnectorError):
        pull_orders(channel=channel, sleep=lambda s: None)
    assert ChannelConnector.objects.get().cursor is None
    shopify.http.route = original
    result = pull_orders(channel=channel, sleep=lambda s: None)
    assert Order.objects.count() == 3
    assert result.imported + result.duplicates == 3


def test_shipping_pushes_the_tracking_number_back_to_shopify(channel, tee, shopify, django_capture_on_commit_callbacks):
    shopify.orders = [stamp(shopify_order(5001), "2026-11-20T10:00:00Z")]
    connect_shopify(channel, shopify)
    pull_orders(channel=channel, sleep=lambda s: None)
    order = Order.objects.get(external_id="5001")
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.shipment_ship(
            shipment=order.shipments.get(), carrier="UPS", tracking_number="1Z999AA1", actor="test"
        )
    assert len(shopify.fulfillments) == 1
    sent = shopify.fulfillments[0]
    assert sent["order_id"] == 5001
    shipment = order.shipments.get()
    assert sent["tracking_info"]["number"] == "1Z999AA1"
    assert sent["tracking_info"]["company"] == shipment.carrier
    assert sent["tracking_info"].get("url") == (shipment.tracking_url or None)
    push = ConnectorShipmentPush.objects.get()
    assert push.pushed_at is not None

    from channels_app.pulls import connector_push

    connector_push(push_id=push.pk)  # again: nothing sent twice
    assert len(shopify.fulfillments) == 1


def test_a_failed_push_is_retried_by_the_sweep(channel, tee, shopify, django_capture_on_commit_callbacks):
    from channels_app.tasks import connector_pushes_retry_task

    shopify.orders = [stamp(shopify_order(6001), "2026-11-20T10:00:00Z")]
    connect_shopify(channel, shopify)
    pull_orders(channel=channel, sleep=lambda s: None)
    order = Order.objects.get()
    shopify.http.script = [(403, {})]
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.shipment_ship(shipment=order.shipments.get(), carrier="UPS", tracking_number="1Z1", actor="test")
    push = ConnectorShipmentPush.objects.get()
    assert (push.pushed_at, push.attempts) == (None, 1)
    assert "HTTP 403" in push.last_error
    assert connector_pushes_retry_task() == 1
    assert shopify.fulfillments[0]["tracking_info"]["number"] == "1Z1"


class FakeWoo:
    KEY, SECRET = "ck_test", "cs_test"
    PAGE = 2

    def __init__(self):
        self.orders = []
        self.notes = []
        self.updates = []
        self.http = FakeMarketplace(self.route)

    def route(self, method, path, query, headers, body):
        expected = "Basic " + base64.b64encode(f"{self.KEY}:{self.SECRET}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {}, {"code": "woocommerce_rest_cannot_view"}
        if method == "GET" and path == "/wp-json/wc/v3/orders":
            since = query.get("modified_after")
            rows = sorted(
                (o for o in self.orders if since is None or o["date_modified_gmt"] > since),
                key=lambda o: o["date_modified_gmt"],
            )
            page = int(query.get("page", 1))
            total_pages = max(1, -(-len(rows) // self.PAGE))
            chunk = rows[(page - 1) * self.PAGE : page * self.PAGE]
            return 200, {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": str(total_pages)}, chunk
        if method == "POST" and path.endswith("/notes"):
            self.notes.append((path.split("/")[-2], body))
            return 201, {}, {"id": 1, **body}
        if method == "PUT" and path.startswith("/wp-json/wc/v3/orders/"):
            self.updates.append((path.split("/")[-1], body))
            return 200, {}, {"id": int(path.split("/")[-1]), **body}
        return 404, {}, {"code": "rest_no_route"}


@pytest.fixture
def woo():
    fake = FakeWoo()
    yield fake
    fake.http.close()


def test_woocommerce_pull_and_tracking_back(channel, tee, woo, django_capture_on_commit_callbacks):
    for i, when in ((71, "2026-11-20T10:00:00"), (72, "2026-11-20T11:00:00"), (73, "2026-11-20T12:00:00")):
        woo.orders.append(woo_order(i, date_modified_gmt=when))
    connector_configure(channel=channel, kind="woocommerce", base_url=woo.http.url, token=woo.KEY, secret=woo.SECRET)
    result = pull_orders(channel=channel, sleep=lambda s: None)
    assert result.imported == 3
    assert [r[2]["page"] for r in woo.http.requests] == ["1", "2"]
    assert ChannelConnector.objects.get().cursor == datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert pull_orders(channel=channel, sleep=lambda s: None).imported == 0
    assert woo.http.requests[-1][2]["modified_after"] == "2026-11-20T12:00:00"
    assert Order.objects.count() == 3

    order = Order.objects.get(external_id="72")
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.shipment_ship(shipment=order.shipments.get(), carrier="DHL", tracking_number="JD0001", actor="test")
    assert len(woo.notes) == 1
    assert woo.notes[0][0] == "72"
    assert "tracking number JD0001" in woo.notes[0][1]["note"]
    assert woo.notes[0][1]["customer_note"] is True
    assert woo.updates == [("72", {"status": "completed"})]


def test_commands_configure_and_pull(channel, tee, shopify):
    shopify.orders = [stamp(shopify_order(8001), "2026-11-20T10:00:00Z")]
    out = io.StringIO()
    call_command(
        "configure_channel", "webstore", "--connector", "shopify", "--base-url", shopify.http.url,
        "--token", shopify.TOKEN, "--api-version", "2024-10", stdout=out,
    )  # fmt: skip
    assert shopify.TOKEN not in out.getvalue()
    assert "…test" in out.getvalue()
    out = io.StringIO()
    call_command("pull_orders", "--channel", "webstore", stdout=out)
    assert out.getvalue().strip() == "imported 1, duplicates 0, failed 0"
    with pytest.raises(CommandError) as unknown:
        call_command("pull_orders", "--channel", "nope")
    assert unknown.value.returncode == 2
    with pytest.raises(CommandError) as bad:
        call_command(
            "configure_channel", "webstore", "--connector", "woocommerce", "--base-url", "ftp://x", "--token", "k"
        )
    assert bad.value.returncode == 2
    assert "base URL" in str(bad.value)


def test_beat_pulls_every_connected_channel(channel, tee, shopify):
    from channels_app.tasks import pull_all_connected_task

    shopify.orders = [stamp(shopify_order(9001), "2026-11-20T10:00:00Z")]
    connect_shopify(channel, shopify)
    assert pull_all_connected_task() == 1  # eager without Redis: the pull ran
    assert Order.objects.filter(external_id="9001").exists()
