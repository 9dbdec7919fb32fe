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

# price_resolver(channel=, customer=, items=[(product, quantity), ...]) -> [Decimal | None, ...]
# Asked once per order for its lines sent without a unit price (one query for all of them, never one a
# line); per line the first answer that is not None wins.
PriceResolver = Callable[..., Sequence[Decimal | None]]

# hold_check(order=, lines=) -> str | None: a hold reason (``credit_limit``,
# ``address_invalid``...) when the order must wait for a person before fulfilment.
# Runs inside place_order's transaction after the lines are stored. The order is stored with the status
# it takes unless a check holds it (``received``, ``backordered``, or ``on_hold`` waiting for payment);
# a check that holds it moves it to ``on_hold`` after, and the events a check records come before that
# move's event. (A ``received`` order is dated when it is stored: an event a check records without holding
# it would come after its ``received`` event. The registered checks record events only when they hold.)
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


def unit_prices(*, channel: Any, customer: Any, lines: Sequence[tuple[Any, int, Decimal | None]]) -> list[Decimal]:
    """What one unit of each ``(product, quantity, price sent)`` costs this customer: the price sent,
    else a resolver's, else the catalogue's."""
    prices: list[Decimal | None] = [sent for _, _, sent in lines]
    for resolve in _PRICE_RESOLVERS:
        unpriced = [i for i, price in enumerate(prices) if price is None]
        if not unpriced:
            break
        answers = resolve(channel=channel, customer=customer, items=[lines[i][:2] for i in unpriced])
        for i, price in zip(unpriced, answers, strict=True):
            prices[i] = price
    return [product.price if price is None else price for (product, _, _), price in zip(lines, prices, strict=True)]


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
