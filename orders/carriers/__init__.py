"""Carriers behind one adapter interface (``base.CarrierAdapter``).

``manual``: staff type the tracking number; ``easypost``: a multi-carrier API
that buys labels and reports tracking. ``handover`` decides how a parcel
leaves: a carrier name with a typed tracking number (tracked afterwards by
``settings.OMS_TRACKING_PROVIDER``), or a label bought from an adapter.
"""

from __future__ import annotations

from django.conf import settings

from inventory.errors import ErrorItem, InvalidInput

from ..models import Shipment
from . import urls
from .base import DELIVERED, EXCEPTION, IN_TRANSIT, CarrierAdapter, Handover, TrackingResult, TrackingUpdate
from .easypost import EasyPostCarrier
from .manual import ManualCarrier

__all__ = [
    "DELIVERED",
    "EXCEPTION",
    "IN_TRANSIT",
    "MANUAL",
    "CarrierAdapter",
    "Handover",
    "TrackingResult",
    "TrackingUpdate",
    "get",
    "handover",
]

MANUAL = "manual"


def get(code: str) -> CarrierAdapter:
    """The adapter named ``code``, configured from settings."""
    if code == "easypost":
        return EasyPostCarrier(
            api_key=getattr(settings, "EASYPOST_API_KEY", ""),
            base_url=getattr(settings, "EASYPOST_API_BASE", "https://api.easypost.com/v2"),
            timeout=getattr(settings, "EASYPOST_TIMEOUT_SECONDS", 15),
        )
    return ManualCarrier()


def adapter_codes() -> list[str]:
    return [MANUAL, "easypost"]


def handover(*, shipment: Shipment, carrier: str, tracking_number: str | None, service: str = "") -> Handover:
    """Buy a label when ``carrier`` is an adapter that buys them and no number was typed; else take the number."""
    carrier = (carrier or "").strip()
    tracking_number = (tracking_number or "").strip() or None
    if not carrier:
        raise InvalidInput([ErrorItem("required", "Name the carrier.", "carrier")])
    code = urls.normal_carrier(carrier)
    if code in adapter_codes() and get(code).buys_labels and not tracking_number:
        return get(code).buy_label(shipment)
    if not tracking_number:
        raise InvalidInput(
            [ErrorItem("tracking_required", f"Carrier {carrier!r} needs the tracking number.", "tracking_number")]
        )
    provider = getattr(settings, "OMS_TRACKING_PROVIDER", MANUAL) or MANUAL
    name = code if code in urls.TRACKING_URLS else carrier
    return Handover(
        carrier=name,
        tracking_number=tracking_number,
        provider=provider if code != MANUAL else MANUAL,
        tracking_url=get(provider).tracking_url(name, tracking_number),
        service=service,
    )
