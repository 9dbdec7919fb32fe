"""Pull connectors: fetch a marketplace's new orders since a cursor; push a shipment's tracking back.

Every connector implements ``base.Connector``; ``for_connector`` picks one by
``ChannelConnector.kind``. Connectors only talk HTTP; staging, placing and the
cursor are ``channels_app.pulls``' job.
"""

from __future__ import annotations

from ..models import ChannelConnector
from .base import Connector, ConnectorError, PulledOrder, Tracking
from .shopify import ShopifyConnector
from .woocommerce import WooCommerceConnector

KINDS: dict[str, type[Connector]] = {
    ChannelConnector.Kind.SHOPIFY: ShopifyConnector,
    ChannelConnector.Kind.WOOCOMMERCE: WooCommerceConnector,
}


def for_connector(config: ChannelConnector, **kwargs) -> Connector:
    return KINDS[config.kind](config, **kwargs)


__all__ = ["Connector", "ConnectorError", "PulledOrder", "Tracking", "for_connector"]
