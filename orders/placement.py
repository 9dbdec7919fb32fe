"""Extension points of ``place_order`` that higher apps fill in from ``AppConfig.ready()``.

``orders`` may not import ``channels_app`` (the layer rules), yet a channel's
terms decide an order's prices and whether it must wait for a person: price
lists and credit limits (B2B), address checks. Those apps register here; with
nothing registered an order is priced from what was sent or the catalogue and
is never held for these reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

# price_resolver(channel=, customer=, product=, quantity=) -> Decimal | None
# Asked for lines sent without a unit price; the first answer that is not None wins.
PriceResolver = Callable[..., Decimal | None]

# hold_check(order=, lines=) -> str | None: a hold reason (``credit_limit``,
# ``address_invalid``...) when the order must wait for a person before fulfilment.
# Runs inside place_order's transaction after the lines are stored.
HoldCheck = Callable[..., str | None]

_PRICE_RESOLVERS: list[PriceResolver] = []
_HOLD_CHECKS: list[HoldCheck] = []


def register_price_resolver(fn: PriceResolver) -> PriceResolver:
    if fn not in _PRICE_RESOLVERS:
        _PRICE_RESOLVERS.append(fn)
    return fn


def register_hold_check(fn: HoldCheck) -> HoldCheck:
    if fn not in _HOLD_CHECKS:
        _HOLD_CHECKS.append(fn)
    return fn


def unit_price(*, channel: Any, customer: Any, product: Any, quantity: int, sent: Decimal | None) -> Decimal:
    """What one unit costs this customer: the price sent, else a resolver's, else the catalogue's."""
    if sent is not None:
        return sent
    for resolve in _PRICE_RESOLVERS:
        price = resolve(channel=channel, customer=customer, product=product, quantity=quantity)
        if price is not None:
            return price
    return product.price


def hold_reasons(*, order: Any, lines: Sequence[Any]) -> list[str]:
    """Every registered check's reason to hold the order, in registration order.

    Every check runs, even after one said hold: a check may record what it found
    (the address problems) or stamp the order's terms (its invoice due date), and
    a hold released later is re-checked against the others (``order_release_hold``).
    """
    return [reason for check in _HOLD_CHECKS if (reason := check(order=order, lines=lines))]


def hold_reason(*, order: Any, lines: Sequence[Any]) -> str:
    """The first registered check's reason to hold the order, or ``""``."""
    reasons = hold_reasons(order=order, lines=lines)
    return reasons[0] if reasons else ""
