"""Staff type the tracking number; nothing to buy and nothing to poll."""

from __future__ import annotations

from ..fulfilment_errors import CarrierError
from ..models import Shipment
from . import urls
from .base import Handover, TrackingResult


class ManualCarrier:
    code = "manual"
    buys_labels = False

    def buy_label(self, shipment: Shipment) -> Handover:
        raise CarrierError("The manual carrier buys no labels: type the tracking number.", code="tracking_required")

    def track(self, shipment: Shipment) -> TrackingResult:
        return TrackingResult(carrier_ref=shipment.carrier_ref)

    def tracking_url(self, carrier: str, tracking_number: str) -> str | None:
        return urls.tracking_url(carrier, tracking_number)
