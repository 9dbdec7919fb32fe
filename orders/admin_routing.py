"""The order page's routing explanation: per line, the locations considered, the rule that decided, why others lost.

Renders ``orders.routing.order_routing`` (the ``routed`` event stored at
placement) as a small table per line, for the order change page in the admin.
"""

from __future__ import annotations

from django.utils.html import format_html, format_html_join

from . import routing
from .models import Order

RULE_NAMES = {
    "availability": "availability (the only location with the units)",
    "fewest_shipments": "fewest shipments",
    "priority": "location priority",
    "distance": "distance to the customer",
    "code": "location code (a perfect tie)",
    "split": "split over locations",
    "backordered": "backordered",
    "rejected": "rejected (the channel does not backorder)",
}


def routing_html(order: Order) -> str:
    """The stored decision as HTML, or a sentence saying there is none."""
    if order is None or order.pk is None:
        return "—"
    decision = routing.order_routing(order=order)
    if decision is None:
        return "No routing decision was recorded for this order."
    summary = decision.get("summary") or {}
    head = format_html(
        "<p>Routed {} into {} new shipment(s) from {}.</p>",
        f"{decision['routed_at']:%Y-%m-%d %H:%M} UTC",
        summary.get("shipments", 0),
        ", ".join(summary.get("locations") or []) or "nowhere",
    )
    return head + format_html_join("", "{}", ((_line_html(line),) for line in decision.get("lines", [])))


def _line_html(line: dict) -> str:
    got = ", ".join(f"{a['quantity']} from {a['location']}" for a in line.get("allocations", [])) or "nothing reserved"
    tail = []
    if line.get("backordered"):
        tail.append(f"{line['backordered']} backordered")
    if line.get("rejected"):
        tail.append(f"{line['rejected']} rejected")
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                c["location"],
                c["kind"],
                c["priority"],
                "—" if c.get("distance_km") is None else f"{c['distance_km']} km",
                c["available"],
                c.get("safety_stock", 0),
                f"chosen: {c['quantity']}" if c["outcome"] == "chosen" else f"lost: {c['reason']}",
                c.get("detail") or "",
            )
            for c in line.get("candidates", [])
        ),
    )
    return format_html(
        '<div class="routing-line"><h4>{} × {}: {}{}</h4><p>Decided by <strong>{}</strong>. {}</p>'
        "<table><thead><tr><th>Location</th><th>Kind</th><th>Priority</th><th>Distance</th><th>Free</th>"
        "<th>Safety stock</th><th>Outcome</th><th>Why</th></tr></thead><tbody>{}</tbody></table></div>",
        line.get("sku", "?"),
        line.get("quantity", 0),
        got,
        f"; {', '.join(tail)}" if tail else "",
        RULE_NAMES.get(line.get("rule", ""), line.get("rule", "")),
        line.get("detail", ""),
        rows or format_html("<tr><td colspan='8'>{}</td></tr>", "No location serves this channel."),
    )
