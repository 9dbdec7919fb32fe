"""Promised delivery dates at risk: due within a day and not shipped yet, or past and not delivered."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from . import lifecycle
from .models import Order, OrderEvent, OrderStatus

PROMISE_AT_RISK = "promise_at_risk"
NOT_SHIPPED = (
    OrderStatus.PLACED,
    OrderStatus.RECEIVED,
    OrderStatus.ON_HOLD,
    OrderStatus.BACKORDERED,
    OrderStatus.PICKED,
    OrderStatus.PACKED,
)


def at_risk_q(*, today: date | None = None) -> Q:
    """Orders whose promise is within a day and have not shipped, or whose promise passed undelivered."""
    today = today or timezone.now().date()
    return Q(promised_delivery_date__isnull=False) & (
        Q(promised_delivery_date__lte=today + timedelta(days=1), status__in=NOT_SHIPPED)
        | Q(promised_delivery_date__lt=today, status=OrderStatus.SHIPPED)
    )


def orders_at_risk(qs: QuerySet[Order] | None = None, *, today: date | None = None) -> QuerySet[Order]:
    return (qs if qs is not None else Order.objects.all()).filter(at_risk_q(today=today))


def is_at_risk(order: Order, *, today: date | None = None) -> bool:
    today = today or timezone.now().date()
    promised = order.promised_delivery_date
    if promised is None:
        return False
    if order.status in NOT_SHIPPED:
        return promised <= today + timedelta(days=1)
    return order.status == OrderStatus.SHIPPED and promised < today


def promises_flag_at_risk(*, today: date | None = None) -> list[Order]:
    """Record ``promise_at_risk`` once for each order newly at risk; the outbox tells the customer."""
    flagged = []
    already = OrderEvent.objects.filter(order=OuterRef("pk"), type=PROMISE_AT_RISK)
    for order in orders_at_risk(today=today).filter(~Exists(already)).order_by("pk")[:1000]:
        with transaction.atomic():
            lifecycle.record(
                order,
                PROMISE_AT_RISK,
                actor="system",
                data={"promised_delivery_date": order.promised_delivery_date.isoformat(), "status": order.status},
            )
        flagged.append(order)
    return flagged
