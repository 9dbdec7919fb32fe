"""Who holds the units counted in ``StockItem.reserved``.

Inventory keeps the ``reserved`` counter but does not know what holds it (an
order's open shipment lines live in ``orders``, above us). A higher app
registers a *provider* in its ``AppConfig.ready``: a callable returning
``{stock_item_id: reserved units}`` for the stock rows it holds, optionally
restricted to some rows. ``check_stock`` adds every provider's answer and
compares it with the counter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping

Provider = Callable[..., Mapping[int, int]]

_providers: dict[str, Provider] = {}


def provider_register(name: str, provider: Provider) -> None:
    """Register (or replace) ``provider(stock_item_ids=None|list) -> {stock_item_id: units}``."""
    _providers[name] = provider


def providers() -> dict[str, Provider]:
    return dict(_providers)


def reservations_held(*, stock_item_ids: Iterable[int] | None = None) -> Counter:
    """Units every registered holder says it holds, per stock row."""
    ids = list(stock_item_ids) if stock_item_ids is not None else None
    total: Counter = Counter()
    for provider in _providers.values():
        for pk, units in provider(stock_item_ids=ids).items():
            total[pk] += units
    return total
