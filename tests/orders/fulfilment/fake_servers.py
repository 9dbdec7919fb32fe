"""Local fake HTTP servers: EasyPost's v2 API (documented payload shapes) and a 3PL endpoint."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeServer:
    def __init__(self, handler_factory):
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler_factory(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _handler(fake, route):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null") if length else None
            fake.requests.append(
                {"method": self.command, "path": self.path, "body": body, "headers": dict(self.headers)}
            )
            status, payload = route(fake, self.command, self.path, body, self.headers)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

    return Handler


class FakeEasyPost(FakeServer):
    """Answers like EasyPost: Shipment with rates, buy, Tracker with tracking_details."""

    API_KEY = "EZTK_test_key"

    def __init__(self):
        self.details: list[dict] = []
        self.tracker_status = "pre_transit"
        self.fail_next = 0
        super().__init__(lambda fake: _handler(fake, FakeEasyPost.route))

    def tracker(self) -> dict:
        return {
            "id": "trk_c8e0edb5bb284caa934a0d3db23a148z",
            "object": "Tracker",
            "mode": "test",
            "tracking_code": "9400110898825022579493",
            "status": self.tracker_status,
            "carrier": "USPS",
            "tracking_details": self.details,
            "public_url": "https://track.easypost.com/djE6dHJrX2M4ZTBlZGI1YmIy",
        }

    def add_detail(self, status: str, when: str, message: str, city: str = "CHICAGO") -> None:
        self.tracker_status = status
        self.details.append(
            {
                "object": "TrackingDetail",
                "message": message,
                "status": status,
                "status_detail": "status_update",
                "datetime": when,
                "source": "USPS",
                "tracking_location": {"object": "TrackingLocation", "city": city, "state": "IL", "country": "US"},
            }
        )

    @staticmethod
    def route(fake, method, path, body, headers):
        expected = "Basic " + base64.b64encode(f"{FakeEasyPost.API_KEY}:".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {"error": {"code": "APIKEY.INACTIVE", "message": "The API key is invalid"}}
        if fake.fail_next:
            fake.fail_next -= 1
            return 503, {"error": {"code": "SERVICE.UNAVAILABLE", "message": "Try again later"}}
        if method == "POST" and path == "/v2/shipments":
            return 201, {
                "id": "shp_0a1b2c",
                "object": "Shipment",
                "rates": [
                    {"id": "rate_ups", "object": "Rate", "carrier": "UPS", "service": "Ground", "rate": "11.20"},
                    {"id": "rate_usps", "object": "Rate", "carrier": "USPS", "service": "Priority", "rate": "7.58"},
                ],
            }
        if method == "POST" and path == "/v2/shipments/shp_0a1b2c/buy":
            rate = {"id": body["rate"]["id"], "carrier": "USPS", "service": "Priority", "rate": "7.58"}
            return 200, {
                "id": "shp_0a1b2c",
                "object": "Shipment",
                "tracking_code": "9400110898825022579493",
                "selected_rate": rate,
                "postage_label": {"object": "PostageLabel", "label_url": "https://easypost-files.example/label.png"},
                "tracker": fake.tracker(),
            }
        if method == "POST" and path == "/v2/trackers":
            return 201, fake.tracker()
        if method == "GET" and path.startswith("/v2/trackers/"):
            return 200, fake.tracker()
        return 404, {"error": {"code": "NOT_FOUND", "message": "not found"}}


class FakeThreePL(FakeServer):
    def __init__(self, status: int = 202):
        self.status = status
        super().__init__(lambda fake: _handler(fake, lambda f, m, p, b, h: (f.status, {"accepted": True})))
