"""Order payloads as channels send them: CSV rows, Shopify and WooCommerce REST orders."""

import csv

from channels_app.importers.parsers import CSV_COLUMNS


def csv_rows(external_id, *lines, email="ana@example.com", placed_at="2026-11-20T14:03:00Z"):
    base = {
        "external_id": external_id,
        "placed_at": placed_at,
        "customer_email": email,
        "customer_name": "Ana Silva",
        "ship_name": "Ana Silva",
        "ship_line1": "1 Main St",
        "ship_line2": "",
        "ship_city": "Springfield",
        "ship_region": "IL",
        "ship_postal_code": "62701",
        "ship_country": "US",
    }
    return [{**base, "sku": sku, "quantity": qty, "unit_price": price} for sku, qty, price in lines]


def write_csv(path, rows, header=CSV_COLUMNS):
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def shopify_order(order_id, sku="TEE-RED-M", qty=2, **extra):
    return {
        "id": order_id,
        "name": f"#{order_id}",
        "email": "ana@example.com",
        "created_at": "2026-11-20T09:03:00-05:00",
        "processed_at": "2026-11-20T09:03:00-05:00",
        "updated_at": "2026-11-20T09:05:00-05:00",
        "currency": "USD",
        "financial_status": "paid",
        "note": "leave at door",
        "customer": {"id": 9, "email": "ana@example.com", "first_name": "Ana", "last_name": "Silva", "phone": None},
        "shipping_address": {
            "first_name": "Ana",
            "last_name": "Silva",
            "name": "Ana Silva",
            "address1": "1 Main St",
            "address2": None,
            "city": "Springfield",
            "province": "Illinois",
            "province_code": "IL",
            "zip": "62701",
            "country": "United States",
            "country_code": "US",
        },
        "line_items": [{"id": 1, "title": "Tee", "sku": sku, "quantity": qty, "price": "19.90"}],
        "shipping_lines": [{"title": "Standard", "code": "standard", "price": "0.00"}],
        **extra,
    }


def woo_order(order_id, sku="TEE-RED-M", qty=1, **extra):
    return {
        "id": order_id,
        "number": str(order_id),
        "status": "processing",
        "currency": "EUR",
        "date_created_gmt": "2026-11-20T14:03:00",
        "date_paid_gmt": "2026-11-20T14:04:00",
        "customer_note": "",
        "billing": {"first_name": "Jo", "last_name": "Doe", "email": "jo@example.com", "phone": "+49 1"},
        "shipping": {
            "first_name": "Jo",
            "last_name": "Doe",
            "company": "",
            "address_1": "Hauptstr. 1",
            "address_2": "",
            "city": "Berlin",
            "state": "",
            "postcode": "10115",
            "country": "DE",
        },
        "line_items": [{"id": 5, "name": "Tee", "sku": sku, "quantity": qty, "price": 21.5, "total": "21.50"}],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "4.90"}],
        **extra,
    }
