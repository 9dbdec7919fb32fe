"""EasyPost: one API for many carriers: buy labels (Shipment + buy) and track (Tracker).

Written against EasyPost's published v2 API: HTTP Basic auth with the API key
as user name, JSON bodies wrapped in the object's name (``{"tracker": {...}}``),
``POST /shipments`` answering ``rates``, ``POST /shipments/{id}/buy`` with
``{"rate": {"id"}}`` answering ``tracking_code``, ``postage_label.label_url``,
``selected_rate`` and ``tracker``; ``POST /trackers`` / ``GET /trackers/{id}``
answering ``status`` and ``tracking_details[]`` (``status``, ``message``,
``datetime``, ``tracking_location``). Parcels are in inches and ounces.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal

from ..fulfilment_errors import CarrierError
from ..models import Shipment
from . import urls
from .base import DELIVERED, EXCEPTION, IN_TRANSIT, Handover, TrackingResult, TrackingUpdate

STATUS_MAP = {
    "unknown": "",
    "pre_transit": "",
    "in_transit": IN_TRANSIT,
    "out_for_delivery": IN_TRANSIT,
    "available_for_pickup": IN_TRANSIT,
    "delivered": DELIVERED,
    "return_to_sender": EXCEPTION,
    "failure": EXCEPTION,
    "error": EXCEPTION,
    "cancelled": EXCEPTION,
}
GRAMS_PER_OUNCE = Decimal("28.349523125")
MM_PER_INCH = Decimal("25.4")


def _seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (an HTTP date is treated as unknown)."""
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class EasyPostCarrier:
    code = "easypost"
    buys_labels = True

    def __init__(self, *, api_key: str, base_url: str = "https://api.easypost.com/v2", timeout: float = 15):
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    # -- HTTP ---------------------------------------------------------------
    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        if not self.api_key:
            raise CarrierError("EasyPost is not configured (EASYPOST_API_KEY).", code="carrier_not_configured")
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": "Basic " + base64.b64encode(f"{self.api_key}:".encode()).decode(),
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                text = response.read()
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read() or b"{}").get("error", {}).get("message", "")
            except (ValueError, AttributeError):
                message = ""
            error = CarrierError(f"EasyPost answered {exc.code} to {method} {path}: {message or exc.reason}")
            error.retry_after = _seconds(exc.headers.get("Retry-After") if exc.headers else None)
            raise error from None
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, a broken status line
            raise CarrierError(f"EasyPost could not be reached for {method} {path}: {exc!r}") from None
        try:
            body = json.loads(text or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise CarrierError(
                f"EasyPost answered {method} {path} with something that is not a JSON object: {text[:80]!r}"
            )
        return body

    # -- labels -------------------------------------------------------------
    @staticmethod
    def _address(*, name, line1, line2, city, region, postal_code, country, email="", phone="") -> dict:
        return {
            "name": name,
            "street1": line1,
            "street2": line2,
            "city": city,
            "state": region,
            "zip": postal_code,
            "country": str(country),
            "email": email,
            "phone": phone,
        }

    def _parcel(self, shipment: Shipment) -> dict:
        def inches(mm):
            return float((Decimal(mm or 0) / MM_PER_INCH).quantize(Decimal("0.1")))

        return {
            "length": inches(shipment.length_mm),
            "width": inches(shipment.width_mm),
            "height": inches(shipment.height_mm),
            "weight": float((Decimal(shipment.weight_grams or 0) / GRAMS_PER_OUNCE).quantize(Decimal("0.1"))),
        }

    def buy_label(self, shipment: Shipment) -> Handover:
        order, loc = shipment.order, shipment.location
        created = self._call(
            "POST",
            "/shipments",
            {
                "shipment": {
                    "reference": shipment.number,
                    "to_address": self._address(
                        name=order.ship_name,
                        line1=order.ship_line1,
                        line2=order.ship_line2,
                        city=order.ship_city,
                        region=order.ship_region,
                        postal_code=order.ship_postal_code,
                        country=order.ship_country,
                    ),
                    "from_address": self._address(
                        name=loc.name,
                        line1=loc.address_line1,
                        line2=loc.address_line2,
                        city=loc.city,
                        region=loc.region,
                        postal_code=loc.postal_code,
                        country=loc.country,
                    ),
                    "parcel": self._parcel(shipment),
                }
            },
        )
        rates = created.get("rates") or []
        if shipment.service:
            rates = [r for r in rates if r.get("service", "").lower() == shipment.service.lower()] or rates
        if not rates:
            raise CarrierError(f"EasyPost offered no rate for {shipment.number}.", code="no_rate")
        cheapest = min(rates, key=lambda r: Decimal(str(r.get("rate", "0"))))
        bought = self._call("POST", f"/shipments/{created['id']}/buy", {"rate": {"id": cheapest["id"]}})
        selected = bought.get("selected_rate") or cheapest
        tracker = bought.get("tracker") or {}
        carrier = urls.normal_carrier(selected.get("carrier", ""))
        tracking_number = bought.get("tracking_code")
        if not tracking_number:
            raise CarrierError(f"EasyPost bought a label for {shipment.number} without a tracking code.")
        return Handover(
            carrier=carrier,
            tracking_number=tracking_number,
            provider=self.code,
            tracking_url=urls.tracking_url(carrier, tracking_number) or tracker.get("public_url"),
            carrier_ref=tracker.get("id", ""),
            label_url=(bought.get("postage_label") or {}).get("label_url"),
            service=selected.get("service", ""),
        )

    # -- tracking -----------------------------------------------------------
    def track(self, shipment: Shipment) -> TrackingResult:
        if shipment.carrier_ref:
            tracker = self._call("GET", f"/trackers/{shipment.carrier_ref}")
        else:
            body = {"tracker": {"tracking_code": shipment.tracking_number, "carrier": (shipment.carrier or "").upper()}}
            tracker = self._call("POST", "/trackers", body)
        details = tracker.get("tracking_details") or []
        if not isinstance(details, list) or not all(isinstance(d, dict) for d in details):
            raise CarrierError(f"EasyPost tracker {tracker.get('id')!r} has unreadable tracking_details.")
        updates = []
        for detail in details:
            status = detail.get("status") or "unknown"
            place = detail.get("tracking_location") or {}
            where = ", ".join(p for p in (place.get("city"), place.get("state"), place.get("country")) if p)
            updates.append(
                TrackingUpdate(
                    status=status,
                    mapped=STATUS_MAP.get(status, ""),
                    at=_parse_time(detail.get("datetime")),
                    message=(detail.get("message") or "")[:500],
                    location=where[:200],
                )
            )
        updates.sort(key=lambda u: u.at)
        return TrackingResult(carrier_ref=tracker.get("id", ""), updates=updates, public_url=tracker.get("public_url"))

    def tracking_url(self, carrier: str, tracking_number: str) -> str | None:
        return urls.tracking_url(carrier, tracking_number)
