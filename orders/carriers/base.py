"""The carrier adapter interface: buy a label, fetch tracking events, give a tracking URL."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ..models import Shipment

# What a carrier event means for our shipment state machine ("" = nothing to do).
IN_TRANSIT, DELIVERED, EXCEPTION = "in_transit", "delivered", "exception"


@dataclass(frozen=True)
class Handover:
    """How a parcel leaves: the carrier, its tracking number, and the adapter that will track it."""

    carrier: str
    tracking_number: str | None
    provider: str
    tracking_url: str | None = None
    carrier_ref: str = ""
    label_url: str | None = None
    service: str = ""


@dataclass(frozen=True)
class TrackingUpdate:
    status: str  # the carrier API's own word
    mapped: str  # IN_TRANSIT, DELIVERED, EXCEPTION or ""
    at: datetime
    message: str = ""
    location: str = ""

    @property
    def key(self) -> str:
        """Identity of the checkpoint, so the same event polled twice is stored once."""
        raw = f"{self.status}|{self.at.isoformat()}|{self.message}|{self.location}"
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class TrackingResult:
    carrier_ref: str
    updates: list[TrackingUpdate] = field(default_factory=list)
    public_url: str | None = None


class CarrierAdapter(Protocol):
    code: str
    buys_labels: bool

    def buy_label(self, shipment: Shipment) -> Handover:
        """Buy a label for a packed shipment (raises ``CarrierError``)."""
        ...

    def track(self, shipment: Shipment) -> TrackingResult:
        """Every checkpoint the carrier knows for this shipment, oldest first (raises ``CarrierError``)."""
        ...

    def tracking_url(self, carrier: str, tracking_number: str) -> str | None: ...
