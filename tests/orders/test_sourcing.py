"""The sourcing rules, each shown with two or three locations (pure planner, no database)."""

from decimal import Decimal

from inventory.models import Location, StockItem
from orders import sourcing
from orders.sourcing import Context, Destination, LineDemand

TEE, MUG, CAP = 1, 2, 3


def loc(pk, code, priority=10, postal="", lat=None, lon=None, capacity=None, kind="own"):
    return Location(
        pk=pk,
        code=code,
        priority=priority,
        kind=kind,
        country="US",
        postal_code=postal,
        latitude=None if lat is None else Decimal(str(lat)),
        longitude=None if lon is None else Decimal(str(lon)),
        daily_shipment_capacity=capacity,
    )


def rows(spec):
    """{(product_id, location): on_hand} -> stock rows."""
    return [
        StockItem(pk=i, product_id=product, location_id=location.pk, on_hand=qty, reserved=0)
        for i, ((product, location), qty) in enumerate(spec.items(), start=1)
    ]


def where(result, key):
    return {a.stock_item.location_id: a.quantity for a in result.allocations if a.key == key}


def reasons(result, key):
    return {c["location"]: c["reason"] for c in result.decisions[key]["candidates"]}


def test_priority_decides_between_two_locations_that_both_cover():
    a, b = loc(1, "A", priority=1), loc(2, "B", priority=5)
    result = sourcing.plan(demands=[LineDemand(0, TEE, 2)], locations=[b, a], stock=rows({(TEE, a): 5, (TEE, b): 5}))
    assert where(result, 0) == {a.pk: 2}
    decision = result.decisions[0]
    assert decision["rule"] == "priority"
    assert reasons(result, 0) == {"A": "", "B": "lower_priority"}
    assert [c["outcome"] for c in decision["candidates"]] == ["chosen", "lost"]


def test_fewest_shipments_beats_priority():
    a, b = loc(1, "A", priority=1), loc(2, "B", priority=5)
    stock = rows({(TEE, a): 5, (TEE, b): 5, (MUG, b): 5})
    result = sourcing.plan(demands=[LineDemand(0, TEE, 1), LineDemand(1, MUG, 1)], locations=[a, b], stock=stock)
    assert where(result, 0) == {b.pk: 1}
    assert where(result, 1) == {b.pk: 1}
    assert result.summary["shipments"] == 1
    assert result.decisions[0]["rule"] == "fewest_shipments"
    assert reasons(result, 0)["A"] == "more_shipments"
    assert result.decisions[1]["rule"] == "availability"  # only B has mugs
    assert reasons(result, 1)["A"] == "no_stock"


def test_fewest_shipments_over_three_locations_picks_the_one_covering_everything():
    a, b, c = loc(1, "A", priority=1), loc(2, "B", priority=2), loc(3, "C", priority=9)
    stock = rows({(TEE, a): 9, (MUG, b): 9, (TEE, c): 9, (MUG, c): 9, (CAP, c): 9, (CAP, a): 9})
    demands = [LineDemand(0, TEE, 1), LineDemand(1, MUG, 1), LineDemand(2, CAP, 1)]
    result = sourcing.plan(demands=demands, locations=[a, b, c], stock=stock)
    assert {pk for k in range(3) for pk in where(result, k)} == {c.pk}


def test_distance_decides_between_equal_priorities():
    # The customer's postal code 10001 is nearest the New York warehouse (postal-code heuristic).
    east = loc(1, "NYC", priority=1, postal="10301", lat=40.64, lon=-74.08)
    west = loc(2, "LAX", priority=1, postal="90001", lat=33.97, lon=-118.25)
    stock = rows({(TEE, east): 5, (TEE, west): 5})
    ctx = Context(destination=Destination(country="US", postal_code="10001"))
    result = sourcing.plan(demands=[LineDemand(0, TEE, 1)], locations=[west, east], stock=stock, context=ctx)
    assert where(result, 0) == {east.pk: 1}
    assert result.decisions[0]["rule"] == "distance"
    assert reasons(result, 0)["LAX"] == "farther"
    lax = next(c for c in result.decisions[0]["candidates"] if c["location"] == "LAX")
    assert 3900 < lax["distance_km"] < 4000

    far_customer = Context(destination=Destination(country="US", postal_code="90210"))
    result = sourcing.plan(demands=[LineDemand(0, TEE, 1)], locations=[west, east], stock=stock, context=far_customer)
    assert where(result, 0) == {west.pk: 1}


def test_given_coordinates_are_used_for_distance():
    a = loc(1, "A", lat=48.85, lon=2.35)  # Paris
    b = loc(2, "B", lat=52.52, lon=13.40)  # Berlin
    ctx = Context(destination=Destination(country="DE", postal_code="10115", latitude=52.5, longitude=13.4))
    result = sourcing.plan(
        demands=[LineDemand(0, TEE, 1)], locations=[a, b], stock=rows({(TEE, a): 1, (TEE, b): 1}), context=ctx
    )
    assert where(result, 0) == {b.pk: 1}


def test_priority_comes_before_distance():
    near = loc(1, "NEAR", priority=5, postal="10301", lat=40.64, lon=-74.08)
    far = loc(2, "FAR", priority=1, postal="90001", lat=33.97, lon=-118.25)
    ctx = Context(destination=Destination(country="US", postal_code="10001"))
    result = sourcing.plan(
        demands=[LineDemand(0, TEE, 1)], locations=[near, far], stock=rows({(TEE, near): 1, (TEE, far): 1}), context=ctx
    )
    assert where(result, 0) == {far.pk: 1}
    assert result.decisions[0]["rule"] == "priority"


def test_a_line_is_not_split_when_one_location_covers_it():
    a, b = loc(1, "A", priority=1), loc(2, "B", priority=5)
    result = sourcing.plan(demands=[LineDemand(0, TEE, 4)], locations=[a, b], stock=rows({(TEE, a): 3, (TEE, b): 4}))
    assert where(result, 0) == {b.pk: 4}
    assert reasons(result, 0)["A"] == "insufficient_stock"
    assert result.decisions[0]["rule"] == "availability"


def test_a_line_splits_when_no_location_covers_it_and_the_rest_is_backordered():
    a, b, c = loc(1, "A", priority=1), loc(2, "B", priority=2), loc(3, "C", priority=3)
    stock = rows({(TEE, a): 2, (TEE, b): 3, (TEE, c): 0})
    result = sourcing.plan(demands=[LineDemand(0, TEE, 4)], locations=[a, b, c], stock=stock)
    assert where(result, 0) == {a.pk: 2, b.pk: 2}
    assert result.backordered == {}
    assert result.decisions[0]["rule"] == "split"

    result = sourcing.plan(demands=[LineDemand(0, TEE, 9)], locations=[a, b, c], stock=stock)
    assert where(result, 0) == {a.pk: 2, b.pk: 3}
    assert result.backordered == {0: 4}
    assert result.decisions[0]["backordered"] == 4


def test_a_split_line_prefers_locations_the_order_already_ships_from():
    a, b, c = loc(1, "A", priority=1), loc(2, "B", priority=2), loc(3, "C", priority=3)
    stock = rows({(TEE, a): 2, (TEE, c): 2, (MUG, c): 1})
    result = sourcing.plan(demands=[LineDemand(0, MUG, 1), LineDemand(1, TEE, 3)], locations=[a, b, c], stock=stock)
    assert where(result, 0) == {c.pk: 1}
    assert where(result, 1) == {c.pk: 2, a.pk: 1}


def test_nothing_anywhere_is_backordered():
    a = loc(1, "A")
    result = sourcing.plan(demands=[LineDemand(0, TEE, 2)], locations=[a], stock=[])
    assert result.allocations == []
    assert result.backordered == {0: 2}
    assert result.decisions[0]["rule"] == "backordered"


def test_channel_safety_stock_keeps_the_last_units_of_a_location():
    a, b = loc(1, "A", priority=1), loc(2, "B", priority=5)
    stock = rows({(TEE, a): 5, (TEE, b): 5})
    ctx = Context(safety_stock={a.pk: 3})
    result = sourcing.plan(demands=[LineDemand(0, TEE, 3)], locations=[a, b], stock=stock, context=ctx)
    assert where(result, 0) == {b.pk: 3}
    rival = next(c for c in result.decisions[0]["candidates"] if c["location"] == "A")
    assert (rival["available"], rival["safety_stock"], rival["reason"]) == (2, 3, "insufficient_stock")
    # Without the rule A (priority 1) would ship.
    assert where(sourcing.plan(demands=[LineDemand(0, TEE, 3)], locations=[a, b], stock=stock), 0) == {a.pk: 3}


def test_daily_capacity_sends_new_shipments_elsewhere():
    a, b = loc(1, "A", priority=1, capacity=2), loc(2, "B", priority=5)
    stock = rows({(TEE, a): 5, (TEE, b): 5})
    ctx = Context(shipments_today={a.pk: 2})
    result = sourcing.plan(demands=[LineDemand(0, TEE, 1)], locations=[a, b], stock=stock, context=ctx)
    assert where(result, 0) == {b.pk: 1}
    assert reasons(result, 0)["A"] == "at_capacity"
    # One below the cap, A takes it.
    ctx = Context(shipments_today={a.pk: 1})
    assert where(sourcing.plan(demands=[LineDemand(0, TEE, 1)], locations=[a, b], stock=stock, context=ctx), 0) == {
        a.pk: 1
    }


def test_reserved_units_are_not_free():
    a, b = loc(1, "A", priority=1), loc(2, "B", priority=5)
    stock = rows({(TEE, a): 5, (TEE, b): 5})
    stock[0].reserved = 4
    result = sourcing.plan(demands=[LineDemand(0, TEE, 2)], locations=[a, b], stock=stock)
    assert where(result, 0) == {b.pk: 2}


def test_code_breaks_a_perfect_tie():
    a, b = loc(1, "A"), loc(2, "B")
    result = sourcing.plan(demands=[LineDemand(0, TEE, 1)], locations=[b, a], stock=rows({(TEE, a): 1, (TEE, b): 1}))
    assert where(result, 0) == {a.pk: 1}
    assert result.decisions[0]["rule"] == "code"


def test_a_location_the_order_already_ships_from_costs_no_new_shipment():
    a, b = loc(1, "A", priority=1), loc(2, "B", priority=5, capacity=0)
    stock = rows({(TEE, a): 5, (TEE, b): 5})
    # B is at capacity, but the order already has a pending shipment there: it joins it.
    ctx = Context(open_shipment_locations=frozenset({b.pk}))
    result = sourcing.plan(demands=[LineDemand(0, TEE, 1)], locations=[a, b], stock=stock, context=ctx)
    assert where(result, 0) == {b.pk: 1}
    assert result.summary["shipments"] == 0
    assert reasons(result, 0)["A"] == "more_shipments"
