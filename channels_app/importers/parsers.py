"""One staged payload -> ``OrderInput``, per format. Pure functions: no database, no network.

Each parser raises ``InvalidInput`` with an ``attr`` pointing into the payload
when it cannot read something, so the staged row's error says exactly where.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime

from orders.errors import ErrorItem, InvalidInput
from orders.services import AddressInput, CustomerInput, LineInput, OrderInput

CSV_COLUMNS = (
    "external_id",
    "placed_at",
    "customer_email",
    "customer_name",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
    "sku",
    "quantity",
    "unit_price",
)
CSV_REQUIRED = ("external_id", "customer_email", "ship_name", "ship_line1", "ship_city", "ship_postal_code",
                "ship_country", "sku", "quantity")  # fmt: skip


class _Errors:
    def __init__(self):
        self.items: list[ErrorItem] = []

    def add(self, code: str, detail: str, attr: str | None) -> None:
        self.items.append(ErrorItem(code, detail, attr))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidInput(self.items)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _datetime(value: Any, attr: str, errors: _Errors) -> datetime | None:
    raw = _text(value)
    if not raw:
        return None
    parsed = parse_datetime(raw)
    if parsed is None:
        errors.add("invalid_datetime", f"{raw!r} is not an ISO 8601 date-time.", attr)
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # exports without offset are UTC


def _money(value: Any, attr: str, errors: _Errors) -> Decimal | None:
    raw = _text(value)
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        errors.add("invalid_number", f"{raw!r} is not a decimal amount.", attr)
        return None
    if not amount.is_finite():
        errors.add("invalid_number", f"{raw!r} is not a decimal amount.", attr)
        return None
    return amount.quantize(Decimal("0.01"))


def _quantity(value: Any, attr: str, errors: _Errors) -> int:
    raw = _text(value)
    try:
        number = Decimal(raw)
        if number != number.to_integral_value():
            raise InvalidOperation
        return int(number)
    except (InvalidOperation, ValueError):
        errors.add("invalid_quantity", f"quantity {raw!r} is not a whole number.", attr)
        return 0


def _lines(lines: list[LineInput]) -> list[LineInput]:
    """Channels may send one SKU on several lines (variants, bundles): the OMS wants one line a SKU."""
    merged: dict[str, LineInput] = {}
    for line in lines:
        seen = merged.get(line.sku)
        if seen is None:
            merged[line.sku] = line
        else:
            merged[line.sku] = LineInput(
                sku=line.sku, quantity=seen.quantity + line.quantity, unit_price=seen.unit_price
            )
    return list(merged.values())


def parse_api(payload: Any) -> OrderInput:
    """The body of ``POST /api/v1/orders/`` (API.md), validated by the orders API's own serializer."""
    from orders.api.serializers import OrderInputSerializer

    if not isinstance(payload, dict):
        raise InvalidInput([ErrorItem("parse_error", "The body must be a JSON object.", None)])
    serializer = OrderInputSerializer(data=payload)
    if not serializer.is_valid():
        raise InvalidInput(flatten_errors(serializer.errors) or [ErrorItem("invalid", "Invalid order.", None)])
    return serializer.to_order_input()


def flatten_errors(errors: Any, prefix: str = "") -> list[ErrorItem]:
    items: list[ErrorItem] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            items += flatten_errors(value, "" if key == "non_field_errors" and not prefix else name)
    elif isinstance(errors, list):
        for i, value in enumerate(errors):
            if isinstance(value, dict | list):
                items += flatten_errors(value, f"{prefix}.{i}" if prefix else str(i))
            else:
                items.append(ErrorItem(getattr(value, "code", "invalid"), str(value), prefix or None))
    return items


def parse_csv(payload: Any) -> OrderInput:
    """``{"rows": [{column: value}, ...]}``: the CSV rows of one order (one row per line)."""
    errors = _Errors()
    rows = payload.get("rows") if isinstance(payload, dict) else None
    if not rows or not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InvalidInput([ErrorItem("parse_error", "A CSV payload holds the rows of one order.", "rows")])
    first = rows[0]
    for column in CSV_REQUIRED:
        for i, row in enumerate(rows if column in ("sku", "quantity") else rows[:1]):
            if not _text(row.get(column)):
                errors.add("required", f"Column {column} is empty.", f"rows.{i}.{column}")
    lines = [
        LineInput(
            sku=_text(row.get("sku")),
            quantity=_quantity(row.get("quantity"), f"rows.{i}.quantity", errors),
            unit_price=_money(row.get("unit_price"), f"rows.{i}.unit_price", errors),
        )
        for i, row in enumerate(rows)
    ]
    placed_at = _datetime(first.get("placed_at"), "rows.0.placed_at", errors)
    errors.raise_if_any()
    return OrderInput(
        external_id=_text(first["external_id"]),
        placed_at=placed_at,
        customer=CustomerInput(email=_text(first["customer_email"]), name=_text(first.get("customer_name"))),
        shipping_address=AddressInput(
            name=_text(first["ship_name"]),
            line1=_text(first["ship_line1"]),
            line2=_text(first.get("ship_line2")),
            city=_text(first["ship_city"]),
            region=_text(first.get("ship_region")),
            postal_code=_text(first["ship_postal_code"]),
            country=_text(first["ship_country"]).upper(),
        ),
        lines=lines,
    )


_SHOPIFY_UNPAID = {"pending", "authorized", "partially_paid", "unpaid", "voided"}


def parse_shopify(payload: Any) -> OrderInput:
    """One order of Shopify's Admin REST ``orders.json`` (``id``, ``email``, ``line_items``, ``shipping_address``)."""
    errors = _Errors()
    if not isinstance(payload, dict):
        raise InvalidInput([ErrorItem("parse_error", "A Shopify order is a JSON object.", None)])
    address = payload.get("shipping_address") or {}
    customer = payload.get("customer") or {}
    if payload.get("id") in (None, ""):
        errors.add("required", "The order has no id.", "id")
    email = _text(payload.get("email") or payload.get("contact_email") or customer.get("email"))
    if not email:
        errors.add("required", "The order has no customer e-mail.", "email")
    if not address:
        errors.add("required", "The order has no shipping_address.", "shipping_address")
    lines = []
    for i, item in enumerate(payload.get("line_items") or []):
        sku = _text(item.get("sku"))
        if not sku:
            errors.add("required", f"Line item {item.get('title', i)!r} has no SKU.", f"line_items.{i}.sku")
        lines.append(
            LineInput(
                sku=sku,
                quantity=_quantity(item.get("quantity"), f"line_items.{i}.quantity", errors),
                unit_price=_money(item.get("price"), f"line_items.{i}.price", errors),
            )
        )
    placed_at = _datetime(payload.get("processed_at") or payload.get("created_at"), "created_at", errors)
    errors.raise_if_any()
    name = _text(address.get("name")) or " ".join(
        p for p in (_text(address.get("first_name")), _text(address.get("last_name"))) if p
    )
    customer_name = " ".join(p for p in (_text(customer.get("first_name")), _text(customer.get("last_name"))) if p)
    shipping = payload.get("shipping_lines") or []
    return OrderInput(
        external_id=_text(payload["id"]),
        placed_at=placed_at,
        currency=_text(payload.get("currency")) or None,
        customer=CustomerInput(email=email, name=customer_name or name, phone=_text(customer.get("phone"))[:40]),
        shipping_address=AddressInput(
            name=name,
            line1=_text(address.get("address1")),
            line2=_text(address.get("address2")),
            city=_text(address.get("city")),
            region=_text(address.get("province_code") or address.get("province")),
            postal_code=_text(address.get("zip")),
            country=_text(address.get("country_code")).upper(),
        ),
        lines=_lines(lines),
        shipping_method=_text(shipping[0].get("code") or shipping[0].get("title"))[:50] if shipping else "",
        payment_status="pending" if _text(payload.get("financial_status")) in _SHOPIFY_UNPAID else "paid",
        notes=_text(payload.get("note"))[:2000],
    )


def parse_woocommerce(payload: Any) -> OrderInput:
    """One order of WooCommerce REST v3 ``/wp-json/wc/v3/orders`` (``billing``, ``shipping``, ``line_items``)."""
    errors = _Errors()
    if not isinstance(payload, dict):
        raise InvalidInput([ErrorItem("parse_error", "A WooCommerce order is a JSON object.", None)])
    shipping = payload.get("shipping") or {}
    billing = payload.get("billing") or {}
    if not _text(shipping.get("address_1")):
        shipping = billing  # digital or pickup orders: WooCommerce leaves shipping blank
    if payload.get("id") in (None, ""):
        errors.add("required", "The order has no id.", "id")
    email = _text(billing.get("email"))
    if not email:
        errors.add("required", "The order has no billing e-mail.", "billing.email")
    lines = []
    for i, item in enumerate(payload.get("line_items") or []):
        sku = _text(item.get("sku"))
        if not sku:
            errors.add("required", f"Line item {item.get('name', i)!r} has no SKU.", f"line_items.{i}.sku")
        lines.append(
            LineInput(
                sku=sku,
                quantity=_quantity(item.get("quantity"), f"line_items.{i}.quantity", errors),
                unit_price=_money(item.get("price"), f"line_items.{i}.price", errors),
            )
        )
    placed_at = _datetime(payload.get("date_created_gmt") or payload.get("date_created"), "date_created_gmt", errors)
    errors.raise_if_any()
    name = " ".join(p for p in (_text(shipping.get("first_name")), _text(shipping.get("last_name"))) if p)
    unpaid = _text(payload.get("status")) in {"pending", "on-hold"} and not payload.get("date_paid_gmt")
    methods = payload.get("shipping_lines") or []
    return OrderInput(
        external_id=_text(payload["id"]),
        placed_at=placed_at,
        currency=_text(payload.get("currency")) or None,
        customer=CustomerInput(
            email=email,
            name=" ".join(p for p in (_text(billing.get("first_name")), _text(billing.get("last_name"))) if p),
            phone=_text(billing.get("phone"))[:40],
        ),
        shipping_address=AddressInput(
            name=name or _text(shipping.get("company")),
            line1=_text(shipping.get("address_1")),
            line2=_text(shipping.get("address_2")),
            city=_text(shipping.get("city")),
            region=_text(shipping.get("state")),
            postal_code=_text(shipping.get("postcode")),
            country=_text(shipping.get("country")).upper(),
        ),
        lines=_lines(lines),
        shipping_method=_text(methods[0].get("method_id") or methods[0].get("method_title"))[:50] if methods else "",
        payment_status="pending" if unpaid else "paid",
        notes=_text(payload.get("customer_note"))[:2000],
    )


PARSERS: dict[str, Callable[[Any], OrderInput]] = {
    "api": parse_api,
    "csv": parse_csv,
    "shopify": parse_shopify,
    "woocommerce": parse_woocommerce,
}


def external_id_of(fmt: str, payload: Any) -> str:
    """Best-effort external id before parsing (for listing and dedupe); blank when unreadable."""
    if not isinstance(payload, dict):
        return ""
    if fmt == "csv":
        rows = payload.get("rows") or [{}]
        value = rows[0].get("external_id") if isinstance(rows[0], dict) else ""
    elif fmt in ("shopify", "woocommerce"):
        value = payload.get("id")
    else:
        value = payload.get("external_id")
    return _text(value)[:255]


def parse(fmt: str, payload: Any) -> OrderInput:
    return PARSERS[fmt](payload)
