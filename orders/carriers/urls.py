"""Public tracking pages of the carriers customers know."""

from __future__ import annotations

from urllib.parse import quote

TRACKING_URLS = {
    "ups": "https://www.ups.com/track?tracknum={n}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={n}",
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={n}",
}


def normal_carrier(name: str) -> str:
    """``UPS``, ``Fed Ex`` and ``fedex`` are one carrier: lower case, no spaces or dashes."""
    return "".join(ch for ch in name.lower() if ch.isalnum() or ch == "_")


def tracking_url(carrier: str, tracking_number: str | None) -> str | None:
    template = TRACKING_URLS.get(normal_carrier(carrier or ""))
    if not template or not tracking_number:
        return None
    return template.format(n=quote(tracking_number.strip(), safe=""))
