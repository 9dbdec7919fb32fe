"""Where each order line ships from (DESIGN.md "Sourcing").

Foundation rules: for each line, the first location by priority (then code)
that can cover the whole line; if none can, take what each location has in
priority order; what nothing covers is backordered. Pure functions over rows
the caller has locked, so a simulation and a placement give the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from inventory.models import Location, StockItem


@dataclass(frozen=True)
class LineDemand:
    key: int  # position of the line in the order
    product_id: int
    quantity: int


@dataclass
class Allocation:
    key: int
    stock_item: StockItem
    quantity: int


@dataclass
class Plan:
    allocations: list[Allocation] = field(default_factory=list)
    backordered: dict[int, int] = field(default_factory=dict)
    decisions: dict[int, dict] = field(default_factory=dict)

    def reserved_for(self, key: int) -> int:
        return sum(a.quantity for a in self.allocations if a.key == key)


def plan(*, demands: Sequence[LineDemand], locations: Iterable[Location], stock: Iterable[StockItem]) -> Plan:
    ranked = sorted(locations, key=lambda loc: (loc.priority, loc.code))
    rank = {loc.pk: i for i, loc in enumerate(ranked)}
    free: dict[int, list[StockItem]] = defaultdict(list)
    left: dict[int, int] = {}
    for item in stock:
        if item.location_id in rank:
            free[item.product_id].append(item)
            left[item.pk] = item.on_hand - item.reserved
    for items in free.values():
        items.sort(key=lambda it: rank[it.location_id])

    result = Plan()
    for line in demands:
        candidates = free.get(line.product_id, [])
        whole = next((it for it in candidates if left[it.pk] >= line.quantity), None)
        if whole is not None:
            left[whole.pk] -= line.quantity
            result.allocations.append(Allocation(line.key, whole, line.quantity))
            result.decisions[line.key] = {
                "rule": "first_by_priority_covering_line",
                "location_id": whole.location_id,
            }
            continue
        need = line.quantity
        for item in candidates:
            take = min(need, max(left[item.pk], 0))
            if take:
                left[item.pk] -= take
                need -= take
                result.allocations.append(Allocation(line.key, item, take))
            if not need:
                break
        if need:
            result.backordered[line.key] = need
        result.decisions[line.key] = {"rule": "split_by_priority", "backordered": need}
    return result
