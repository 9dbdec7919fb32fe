"""WooCommerce REST v3: ``/wp-json/wc/v3/orders`` with the consumer key and secret (HTTP Basic).

Pages are numbered (``page``, ``per_page``) and the total comes in the
``X-WP-TotalPages`` header. Tracking goes back as a customer note on the order,
then the order is marked ``completed``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.utils.dateparse import parse_datetime

from .base import Connector, ConnectorError, PulledOrder, Tracking

PAGE_SIZE = 100


class WooCommerceConnector(Connector):
    format = "woocommerce"

    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.config.token}:{self.config.secret}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def api(self, path: str) -> str:
        return f"{self.config.base_url.rstrip('/')}/wp-json/wc/v3/{path}"

    def fetch_orders(self, *, since: datetime | None) -> Iterator[PulledOrder]:
        page = 1
        while True:
            params = {"per_page": PAGE_SIZE, "page": page, "orderby": "modified", "order": "asc"}
            if since is not None:
                params["modified_after"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
                params["dates_are_gmt"] = "true"
            response = self.request("GET", self.api("orders") + "?" + urlencode(params))
            if not isinstance(response.body, list):
                raise ConnectorError("WooCommerce answered without a list of orders.")
            for order in response.body:
                raw = order.get("date_modified_gmt") or order.get("date_created_gmt") or ""
                updated = parse_datetime(str(raw))
                if updated is None:
                    raise ConnectorError(f"WooCommerce order {order.get('id')} has no readable date_modified_gmt.")
                yield PulledOrder(payload=order, updated_at=updated if updated.tzinfo else updated.replace(tzinfo=UTC))
            try:
                total_pages = int(response.headers.get("x-wp-totalpages", "1"))
            except ValueError:
                total_pages = 1
            if page >= total_pages or not response.body:
                return
            page += 1

    def push_tracking(self, tracking: Tracking) -> None:
        note = f"Shipped with {tracking.carrier}, tracking number {tracking.tracking_number}"
        if tracking.tracking_url:
            note += f" ({tracking.tracking_url})"
        self.request("POST", self.api(f"orders/{tracking.external_id}/notes"), {"note": note, "customer_note": True})
        self.request("PUT", self.api(f"orders/{tracking.external_id}"), {"status": "completed"})
