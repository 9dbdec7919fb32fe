"""A channel's backorder policy: what happens to ordered units no stock covers.

The policy is ``SalesChannel.backorder_policy`` (read from the channel instance;
orders never imports channels_app):

- ``allow`` (the default): the units are backordered and wait for stock
  (``services.backorders_allocate``, oldest order first).
- ``reject``: the units are refused when the order is placed. The line keeps
  the ordered ``quantity`` and counts the refused units in
  ``quantity_cancelled``; the order's ``subtotal`` and ``total`` leave them out;
  the routing decision says ``"rule": "rejected"`` / ``"rejected": n`` per line
  and the outcome event (``received`` or ``on_hold``) carries
  ``{"rejected": {sku: n}, "backorder_policy": "reject"}``. An order of which
  not one unit could be reserved is ``cancelled`` at once with reason
  ``out_of_stock`` (it holds nothing, so nothing is released).
- ``cancel_after_days`` N: backorders still waiting N days after ``placed_at``
  are cancelled by ``backorders_cancel_overdue`` (hourly beat,
  ``orders.tasks.backorders_cancel_overdue_task``). Their units move from
  ``quantity_backordered`` to ``quantity_cancelled`` and leave the totals, with
  a ``backorder_cancelled`` event. When nothing of the order is reserved or
  shipped, the whole order is cancelled (``cancel_order``, reason
  ``out_of_stock``); otherwise the rest goes on and the order moves to where
  its shipments stand (a backordered order with a pending shipment becomes
  ``received``).

Placement calls the pure helpers below without a query, so the policy costs
``place_order`` nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from . import lifecycle, sourcing
from .models import Order, OrderLine
from .models import OrderStatus as S

# The values of channels_app.models.SalesChannel.BackorderPolicy.
ALLOW = "allow"
REJECT = "reject"
CANCEL_AFTER_DAYS = "cancel_after_days"
OUT_OF_STOCK = "out_of_stock"

# Orders whose backorders may still be waiting: anything neither cancelled, delivered nor merely placed.
WAITING_STATUSES = (S.BACKORDERED, S.RECEIVED, S.ON_HOLD, S.PICKED, S.PACKED, S.SHIPPED)


# --- At placement (pure: no queries) ---------------------------------------------------------------------------------


def reject_unreservable(*, channel, route: sourcing.Plan) -> None:
    """Under ``reject``, turn the route's backorders into refused units and say so in its decisions."""
    if getattr(channel, "backorder_policy", ALLOW) != REJECT or not route.backordered:
        return
    for key, units in route.backordered.items():
        route.rejected[key] = units
        decision = route.decisions.get(key)
        if decision is None:
            continue
        decision["backordered"], decision["rejected"] = 0, units
        if decision["rule"] == "backordered":
            decision["rule"] = "rejected"
            decision["detail"] = (
                f"No location has any of the {units} units free and the channel does not backorder: "
                f"all {units} rejected."
            )
        else:
            decision["detail"] = decision["detail"].replace(
                f"; {units} backordered", f"; {units} rejected (the channel does not backorder)"
            )
    route.backordered = {}


def uncharge_rejected(*, order: Order, prices: list[Decimal], route: sourcing.Plan) -> None:
    """Leave refused units out of the (unsaved) order's subtotal and total."""
    refused = sum((prices[key] * units for key, units in route.rejected.items()), Decimal("0.00"))
    if refused:
        order.subtotal -= refused
        order.total -= refused


def rejected_data(lines: list[OrderLine]) -> dict:
    """The outcome event's note of refused units (empty when none were)."""
    rejected = {line.sku: line.quantity_cancelled for line in lines if line.quantity_cancelled}
    return {"rejected": rejected, "backorder_policy": REJECT} if rejected else {}


# --- Later: backorders that waited too long -------------------------------------------------------------------------


def _channel_model():
    """SalesChannel, reached through the order's foreign key (orders sits below channels_app)."""
    return Order._meta.get_field("channel").related_model


def backorders_overdue(*, now: datetime | None = None) -> list[tuple[int, int]]:
    """``(order_id, after_days)`` of orders with backorders waiting longer than their channel allows."""
    now = now or timezone.now()
    waiting = OrderLine.objects.filter(order=OuterRef("pk"), quantity_backordered__gt=0)
    overdue = []
    for channel_id, days in (
        _channel_model()
        .objects.filter(backorder_policy=CANCEL_AFTER_DAYS, backorder_cancel_after_days__gte=1)
        .values_list("pk", "backorder_cancel_after_days")
    ):
        ids = (
            Order.objects.filter(
                channel_id=channel_id, status__in=WAITING_STATUSES, placed_at__lte=now - timedelta(days=days)
            )
            .filter(Exists(waiting))
            .order_by("placed_at", "pk")
            .values_list("pk", flat=True)
        )
        overdue += [(pk, days) for pk in ids]
    return overdue


def backorders_cancel_overdue(*, now: datetime | None = None, actor: str = "system") -> list[Order]:
    """Cancel every backorder past its channel's ``cancel_after_days``; the orders changed.

    One transaction per order (``backorder_cancel``), so a long sweep holds no
    lock for long and a re-run finds nothing left to do.
    """
    changed = []
    for order_id, days in backorders_overdue(now=now):
        order = backorder_cancel(order=Order(pk=order_id), after_days=days, actor=actor)
        if order is not None:
            changed.append(order)
    return changed


@transaction.atomic
def backorder_cancel(*, order: Order, after_days: int, actor: str) -> Order | None:
    """Cancel what the order still has backordered; the whole order when nothing else of it is held or shipped.

    Takes the order's lock first, as ``backorders_allocate`` does, so a unit is
    either allocated or cancelled, never both. ``None`` when nothing waits (any more).
    """
    from . import fulfilment, services  # services places orders with this module's helpers

    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status not in WAITING_STATUSES:
        return None
    lines = list(order.lines.order_by("id"))
    waiting = [line for line in lines if line.quantity_backordered]
    if not waiting:
        return None
    cancelled = {line.sku: line.quantity_backordered for line in waiting}
    refund = sum((line.unit_price * line.quantity_backordered for line in waiting), Decimal("0.00"))
    OrderLine.objects.filter(pk__in=[line.pk for line in waiting]).update(
        quantity_cancelled=F("quantity_cancelled") + F("quantity_backordered"), quantity_backordered=0
    )
    order.subtotal -= refund
    order.total -= refund
    order.save(update_fields=["subtotal", "total", "updated_at"])
    lifecycle.record(
        order,
        "backorder_cancelled",
        actor=actor,
        data={
            "reason": OUT_OF_STOCK,
            "backorder_policy": CANCEL_AFTER_DAYS,
            "after_days": after_days,
            "cancelled": cancelled,
        },
    )
    if not any(line.quantity_reserved or line.quantity_shipped for line in lines):
        return services.cancel_order(order=order, reason=OUT_OF_STOCK, actor=actor)
    fulfilment.order_sync_status(order=order, actor=actor)
    return order
