"""Where each order line ships from (DESIGN.md "Sourcing"), and why.

Pure functions over rows the caller has read (and, when placing, locked), so a
simulation and a placement given the same rows give the same answer.

Rules, in order:

1. **Fewest shipments** for the whole order: the smallest set of locations in
   which every line that *some* single location can cover is covered whole
   (exact search over up to ``EXACT_SEARCH_LIMIT`` candidate locations, greedy
   beyond). A location where the order already has a pending shipment costs
   no new shipment.
2. **Location priority** (smaller first): among equally small sets, the one
   whose locations rank best; within the set, each line goes to the
   best-ranked location that covers it.
3. **Distance to the customer** (haversine over latitude/longitude). Orders
   carry a postal address, not coordinates, so the customer's point is
   estimated from the locations themselves: the same-country location(s) whose
   postal code shares the longest prefix with the customer's stand in for the
   customer (their mean position), e.g. a customer in 10001 sits at the
   warehouse in 10301 rather than the one in 90001. A ``Destination`` given
   with coordinates is used as is. Unknown distances rank after known ones.
4. The location code, so the answer is deterministic.

Only a line no single location can cover is split: first over locations the
order already ships from, then by rank. What nothing covers is backordered.

Eligibility: a channel keeps ``safety_stock`` units of a location back (it
does not sell the last N units), and a location with a
``daily_shipment_capacity`` takes no new shipment once that many were created
today (it may still add to a shipment the order already has there).

Every line gets a decision: the candidates considered, the rule that decided
and why each other candidate lost (``Plan.decisions``), which
``orders.routing`` stores on the order as its ``routed`` event.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from inventory.models import Location, StockItem

EXACT_SEARCH_LIMIT = 12

# Rules in the order they apply; "the rule that decided" is the latest one any rival lost on.
RULES = ("availability", "fewest_shipments", "priority", "distance", "code")
# Why a rival lost -> the rule it lost on.
REASON_RULE = {
    "no_stock": "availability",
    "insufficient_stock": "availability",
    "at_capacity": "availability",
    "more_shipments": "fewest_shipments",
    "lower_priority": "priority",
    "order_priority": "priority",
    "farther": "distance",
    "code_order": "code",
}


@dataclass(frozen=True)
class LineDemand:
    key: int  # position of the line in the order
    product_id: int
    quantity: int


@dataclass(frozen=True)
class Destination:
    country: str = ""
    postal_code: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Context:
    """What sourcing needs beyond stock rows: the channel's rules and the customer."""

    safety_stock: Mapping[int, int] = field(default_factory=dict)  # location_id -> units kept back
    shipments_today: Mapping[int, int] = field(default_factory=dict)  # location_id -> created today
    destination: Destination | None = None
    open_shipment_locations: frozenset[int] = frozenset()  # the order already ships from these


@dataclass
class Allocation:
    key: int
    stock_item: StockItem
    quantity: int


@dataclass
class Plan:
    allocations: list[Allocation] = field(default_factory=list)
    backordered: dict[int, int] = field(default_factory=dict)
    # Units refused instead of backordered (the channel's backorder policy, ``orders.backorder_policy``).
    rejected: dict[int, int] = field(default_factory=dict)
    decisions: dict[int, dict] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    def reserved_for(self, key: int) -> int:
        return sum(a.quantity for a in self.allocations if a.key == key)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (lat1, lon1, lat2, lon2))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def _norm_postal(code: str) -> str:
    return "".join(code.split()).upper()


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def customer_point(destination: Destination | None, locations: Iterable[Location]) -> tuple[float, float] | None:
    """The customer's coordinates, given or estimated from the nearest-by-postal-code location(s)."""
    if destination is None:
        return None
    if destination.latitude is not None and destination.longitude is not None:
        return float(destination.latitude), float(destination.longitude)
    postal = _norm_postal(destination.postal_code)
    best, matches = 0, []
    for loc in locations:
        if loc.latitude is None or loc.longitude is None or str(loc.country) != destination.country.upper():
            continue
        n = _common_prefix(postal, _norm_postal(loc.postal_code))
        if n > best:
            best, matches = n, [loc]
        elif n == best and n:
            matches.append(loc)
    if not matches:
        return None
    return (
        sum(float(loc.latitude) for loc in matches) / len(matches),
        sum(float(loc.longitude) for loc in matches) / len(matches),
    )


@dataclass
class _Site:
    loc: Location
    distance_km: float | None
    safety: int
    can_open: bool  # may take a new shipment today
    has_shipment: bool

    @property
    def rank(self) -> tuple:
        far = self.distance_km if self.distance_km is not None else math.inf
        return (self.loc.priority, far, self.loc.code)


def plan(
    *,
    demands: Sequence[LineDemand],
    locations: Iterable[Location],
    stock: Iterable[StockItem],
    context: Context | None = None,
) -> Plan:
    ctx = context or Context()
    locations = list(locations)
    point = customer_point(ctx.destination, locations)
    sites: dict[int, _Site] = {}
    for loc in locations:
        distance = None
        if point is not None and loc.latitude is not None and loc.longitude is not None:
            distance = round(haversine_km(point[0], point[1], float(loc.latitude), float(loc.longitude)), 1)
        capacity = loc.daily_shipment_capacity
        sites[loc.pk] = _Site(
            loc=loc,
            distance_km=distance,
            safety=ctx.safety_stock.get(loc.pk, 0),
            can_open=capacity is None or ctx.shipments_today.get(loc.pk, 0) < capacity,
            has_shipment=loc.pk in ctx.open_shipment_locations,
        )
    order = sorted(sites, key=lambda pk: sites[pk].rank)
    position = {pk: i for i, pk in enumerate(order)}

    items: dict[tuple[int, int], StockItem] = {}
    left: dict[int, int] = {}
    for item in stock:
        if item.location_id in sites:
            items[(item.product_id, item.location_id)] = item
            left[item.pk] = max(item.on_hand - item.reserved - sites[item.location_id].safety, 0)

    def free(product_id: int, loc_id: int) -> int:
        item = items.get((product_id, loc_id))
        return left[item.pk] if item is not None else 0

    def usable(loc_id: int) -> bool:
        return sites[loc_id].has_shipment or sites[loc_id].can_open

    # Rule 1: fewest shipments over the lines a single location can cover.
    covering = {d.key: {pk for pk in order if usable(pk) and free(d.product_id, pk) >= d.quantity} for d in demands}
    whole = [d for d in demands if covering[d.key]]
    already = {pk for pk in order if sites[pk].has_shipment}
    chosen = _cover([covering[d.key] for d in whole], order, already)

    result = Plan()
    used: set[int] = set(already)
    availability = {d.key: {pk: free(d.product_id, pk) for pk in order} for d in demands}
    for d in demands:
        options = [pk for pk in order if pk in chosen and pk in covering[d.key]]
        # Same product on two lines: an earlier line may have taken what this one counted on.
        options = [pk for pk in options if free(d.product_id, pk) >= d.quantity]
        if options:
            winner = options[0]
            item = items[(d.product_id, winner)]
            left[item.pk] -= d.quantity
            used.add(winner)
            result.allocations.append(Allocation(d.key, item, d.quantity))
            continue
        need = d.quantity
        for pk in sorted(order, key=lambda pk: (pk not in used, position[pk])):
            if not need:
                break
            take = min(need, free(d.product_id, pk)) if usable(pk) else 0
            if take:
                item = items[(d.product_id, pk)]
                left[item.pk] -= take
                need -= take
                used.add(pk)
                result.allocations.append(Allocation(d.key, item, take))
        if need:
            result.backordered[d.key] = need

    fits: dict[int, bool] = {}
    whole_sets = [covering[x.key] for x in whole]

    def fits_equal_cover(pk: int) -> bool:
        if pk not in fits:
            fits[pk] = _fits_cover(pk, whole_sets, order, already, len(chosen - already))
        return fits[pk]

    shipment_sets = defaultdict(list)
    by_line = defaultdict(list)
    for a in result.allocations:
        shipment_sets[a.stock_item.location_id].append(a)
        by_line[a.key].append(a)
    for d in demands:
        result.decisions[d.key] = _explain(
            d,
            sites=sites,
            order=order,
            chosen=chosen,
            covering=covering[d.key],
            available=availability[d.key],
            allocations=by_line[d.key],
            backordered=result.backordered.get(d.key, 0),
            fits_equal_cover=fits_equal_cover,
        )
    new_shipments = [pk for pk in shipment_sets if not sites[pk].has_shipment]
    result.summary = {
        "shipments": len(new_shipments),
        "locations": [sites[pk].loc.code for pk in order if pk in shipment_sets],
        "customer_point": list(point) if point else None,
    }
    return result


def _cover(sets: list[set[int]], order: list[int], already: set[int]) -> set[int]:
    """The smallest set of locations (beyond ``already``) hitting every set; best-ranked first."""
    todo = [s for s in sets if not (s & already)]
    if not todo:
        return set(already)
    candidates = [pk for pk in order if pk not in already and any(pk in s for s in todo)]
    if len(candidates) <= EXACT_SEARCH_LIMIT:
        for size in range(1, len(candidates) + 1):
            for combo in combinations(candidates, size):  # in rank order: the first hit ranks best
                picked = set(combo)
                if all(s & picked for s in todo):
                    return picked | already
    picked: set[int] = set()  # greedy: most lines covered, then rank
    while todo:
        best = max(candidates, key=lambda pk: (sum(pk in s for s in todo), -order.index(pk)))
        picked.add(best)
        todo = [s for s in todo if best not in s]
    return picked | already


def _fits_cover(pk: int, sets: list[set[int]], order: list[int], already: set[int], size: int) -> bool:
    """Could ``pk`` be part of a cover as small as the chosen one?"""
    if size == 0:
        return False
    todo = [s for s in sets if not (s & (already | {pk}))]
    if not todo:
        return True
    if size <= 1:
        return False
    candidates = [c for c in order if c not in already and c != pk and any(c in s for s in todo)]
    if len(candidates) > EXACT_SEARCH_LIMIT:
        return False
    return any(all(s & set(combo) for s in todo) for combo in combinations(candidates, min(size - 1, len(candidates))))


def _explain(
    d: LineDemand,
    *,
    sites: dict[int, _Site],
    order: list[int],
    chosen: set[int],
    covering: set[int],
    available: dict[int, int],
    allocations: list[Allocation],
    backordered: int,
    fits_equal_cover,
) -> dict:
    taken = {a.stock_item.location_id: a.quantity for a in allocations}
    split = len(taken) > 1 or (taken and backordered)
    winner = next(iter(taken), None) if not split else None
    candidates = []
    for pk in order:
        site = sites[pk]
        row = {
            "location": site.loc.code,
            "kind": site.loc.kind,
            "priority": site.loc.priority,
            "distance_km": site.distance_km,
            "available": available[pk],
            "safety_stock": site.safety,
            "quantity": taken.get(pk, 0),
        }
        reason, detail = _why(pk, d, site, winner, sites, covering, chosen, available, taken, fits_equal_cover)
        row.update({"outcome": "chosen" if pk in taken else "lost", "reason": reason, "detail": detail})
        candidates.append(row)

    if not candidates:
        rule, detail = "backordered", "The channel has no location to ship from."
    elif not taken:
        rule, detail = "backordered", f"No location has any of the {d.quantity} units free; all backordered."
    elif split:
        parts = ", ".join(f"{q} from {sites[pk].loc.code}" for pk, q in taken.items())
        tail = f"; {backordered} backordered" if backordered else ""
        rule, detail = "split", f"No single location could cover {d.quantity} units: {parts}{tail}."
    else:
        lost_on = [REASON_RULE[c["reason"]] for c in candidates if c["outcome"] == "lost"]
        rule = max(lost_on, key=RULES.index) if lost_on else "availability"
        detail = {
            "availability": "The only location able to ship the whole line.",
            "fewest_shipments": "Ships with the fewest shipments for the whole order.",
            "priority": "Best priority among locations that keep the order to the fewest shipments.",
            "distance": "Nearest to the customer among equally preferred locations.",
            "code": "Equal on every rule; the first by location code.",
        }[rule]
    return {
        "quantity": d.quantity,
        "rule": rule,
        "detail": detail,
        "allocations": [{"location": sites[pk].loc.code, "quantity": q} for pk, q in taken.items()],
        "backordered": backordered,
        "rejected": 0,
        "candidates": candidates,
    }


def _why(pk, d, site, winner, sites, covering, chosen, available, taken, fits_equal_cover) -> tuple[str, str]:
    if pk in taken:
        return "", ""
    if not site.can_open and not site.has_shipment:
        return "at_capacity", f"Reached its daily capacity of {site.loc.daily_shipment_capacity} shipments."
    if available[pk] <= 0:
        note = f" (keeps {site.safety} back for this channel)" if site.safety else ""
        return "no_stock", f"Nothing free to sell{note}."
    if pk not in covering:
        note = f" after keeping {site.safety} back" if site.safety else ""
        return (
            "insufficient_stock",
            f"Only {available[pk]} of {d.quantity} free{note}; lines split only when no one location covers them.",
        )
    if winner is None:  # covered but the line was split/backordered: an earlier line took the units
        return "insufficient_stock", "Its units went to another line of this order."
    w = sites[winner]
    if pk not in chosen and not fits_equal_cover(pk):
        return "more_shipments", f"Shipping from here would need more shipments than from {w.loc.code}."
    if site.rank < w.rank:  # only outside the chosen set: the order's best set of locations left it out
        return "order_priority", "The best-priority set of locations for the whole order does not include it."
    if site.loc.priority != w.loc.priority:
        return "lower_priority", f"Priority {site.loc.priority} after {w.loc.code}'s {w.loc.priority}."
    if site.distance_km != w.distance_km:
        here = "unknown" if site.distance_km is None else f"{site.distance_km} km"
        return "farther", f"{here} from the customer against {w.distance_km} km from {w.loc.code}."
    return "code_order", f"Equal to {w.loc.code} on every rule; {w.loc.code} comes first by code."
