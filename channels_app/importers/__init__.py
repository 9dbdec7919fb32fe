"""Turn what channels send (API bodies, CSV rows, Shopify and WooCommerce orders) into ``OrderInput``.

``parsers`` maps one staged payload to an ``orders.services.OrderInput``;
``readers`` streams a file into payloads, one order at a time.
"""
