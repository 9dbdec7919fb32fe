"""Shopify Admin REST: ``/admin/api/<version>/orders.json`` with ``X-Shopify-Access-Token``.

Pages follow the ``Link: <...page_info=...>; rel="next"`` header (cursor
pagination: the next URL carries everything, so it is used as given).
Tracking goes back through the fulfillment-orders API: the order's open
fulfillment orders are fulfilled with ``tracking_info``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlencode

from django.utils.dateparse import parse_datetime

from .base import Connector, ConnectorError, PulledOrder, Tracking

_NEXT = re.compile(r'<([^>]+)>;\s*rel="?next"?')
PAGE_SIZE = 250
OPEN_FULFILLMENT_ORDER = {"open", "in_progress", "scheduled"}


class ShopifyConnector(Connector):
    format = "shopify"

    def headers(self) -> dict[str, str]:
        return {"X-Shopify-Access-Token": self.config.token}

    def api(self, path: str) -> str:
        return f"{self.config.base_url.rstrip('/')}/admin/api/{self.config.api_version}/{path}"

    def fetch_orders(self, *, since: datetime | None) -> Iterator[PulledOrder]:
        params = {"status": "any", "limit": PAGE_SIZE, "order": "updated_at asc"}
        if since is not None:
            params["updated_at_min"] = since.isoformat()
        url: str | None = self.api("orders.json") + "?" + urlencode(params)
        while url:
            response = self.request("GET", url)
            orders = (response.body or {}).get("orders")
            if not isinstance(orders, list):
                raise ConnectorError("Shopify answered without an 'orders' list.")
            for order in orders:
                updated = parse_datetime(str(order.get("updated_at") or order.get("created_at") or ""))
                if updated is None:
                    raise ConnectorError(f"Shopify order {order.get('id')} has no readable updated_at.")
                yield PulledOrder(payload=order, updated_at=updated)
            match = _NEXT.search(response.headers.get("link", ""))
            url = match.group(1) if match else None

    def push_tracking(self, tracking: Tracking) -> None:
        response = self.request("GET", self.api(f"orders/{tracking.external_id}/fulfillment_orders.json"))
        open_orders = [
            fo
            for fo in (response.body or {}).get("fulfillment_orders", [])
            if fo.get("status") in OPEN_FULFILLMENT_ORDER
        ]
        if not open_orders:
            return  # already fulfilled there (a re-push): nothing to do
        info = {"number": tracking.tracking_number, "company": tracking.carrier}
        if tracking.tracking_url:
            info["url"] = tracking.tracking_url
        self.request(
            "POST",
            self.api("fulfillments.json"),
            {
                "fulfillment": {
                    "line_items_by_fulfillment_order": [{"fulfillment_order_id": fo["id"]} for fo in open_orders],
                    "tracking_info": info,
                    "notify_customer": True,
                }
            },
        )
