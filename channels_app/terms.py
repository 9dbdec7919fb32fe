"""B2B and B2C terms applied while an order is placed: price lists, payment terms, credit limits.

``orders`` may not import this app, so ``ChannelsAppConfig.ready`` registers
these functions with ``orders.placement``, which ``place_order`` asks.

Prices. A line sent without a unit price costs, in this order: a business
customer's price list (``CustomerTerms.price_list``), the channel's
(``SalesChannel.price_list``), then the catalogue price (``Product.price``, the
fallback in ``orders.placement``). Within a list the quantity break with the
largest ``min_quantity`` not above the line's quantity wins. A price sent on
the line is always kept. Inactive lists price nothing.

Payment terms. A business customer's order gets ``invoice_due_at`` = placed
time + the customer's ``payment_terms_days``, else the channel's; with neither
it is prepaid and has no due date. Consumers prepay: an unpaid consumer order
is held ``payment_pending`` by ``place_order`` itself.

Credit limit. A business customer's *open balance* is the sum of ``total`` over
its orders that are not cancelled and not paid yet (``payment_status``
``pending``), in the limit's currency, the order being placed included; other
orders already held ``credit_limit`` are left out (no credit was granted to
them). An unpaid business order that takes the balance over
``CustomerTerms.credit_limit`` (strictly: a balance equal to the limit is
within it) is held ``on_hold`` / ``credit_limit``, with the figures in a
``credit_limit_exceeded`` event. An order sent as paid takes no credit. An
unpaid order in another currency than the limit's cannot be measured against
it, so it is held too. Confirming a payment (``orders.services.order_payment_confirm``)
takes that order out of the balance; an order already held ``credit_limit`` stays
held until a person releases it (DESIGN.md: holds are released by a person).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum

from orders import lifecycle
from orders.models import Customer, Order, OrderStatus

from .models import CustomerTerms, PriceListItem

CREDIT_LIMIT = "credit_limit"


def prices_for(*, channel: Any, customer: Any, items: Sequence[tuple[Any, int]]) -> list[Decimal | None]:
    """Per ``(product, quantity)``: the customer's list price, else the channel's; None: the catalogue price.

    No query when no list applies (a consumer on a channel without a list);
    else one for all the order's lines, whatever their number.
    """
    terms = customer_terms(customer)
    list_ids = [pk for pk in (terms.price_list_id if terms else None, getattr(channel, "price_list_id", None)) if pk]
    if not list_ids or not items:
        return [None] * len(items)
    rows = (
        PriceListItem.objects.filter(
            product_id__in={product.pk for product, _ in items},
            price_list_id__in=list_ids,
            price_list__active=True,
            min_quantity__lte=max(quantity for _, quantity in items),
        )
        .order_by("-min_quantity")
        .values_list("product_id", "price_list_id", "min_quantity", "unit_price")
    )
    breaks: dict[tuple[int, int], list[tuple[int, Decimal]]] = defaultdict(list)  # largest break first
    for product_id, list_id, min_quantity, price in rows:
        breaks[product_id, list_id].append((min_quantity, price))
    return [_list_price(breaks, list_ids, product.pk, quantity) for product, quantity in items]


def _list_price(breaks, list_ids: list[int], product_id: int, quantity: int) -> Decimal | None:
    for list_id in list_ids:  # the customer's list first
        price = next((p for least, p in breaks.get((product_id, list_id), ()) if least <= quantity), None)
        if price is not None:
            return price  # the largest break this quantity reaches
    return None


def price_for(*, channel: Any, customer: Any, product: Any, quantity: int) -> Decimal | None:
    """One line's list price (``prices_for`` of one item)."""
    return prices_for(channel=channel, customer=customer, items=[(product, quantity)])[0]


_TERMS_CACHE = "_channels_app_terms"


def customer_terms(customer: Customer) -> CustomerTerms | None:
    """A business customer's terms (None for consumers: their terms are the channel's).

    Read once per customer object: a placement asks for every line and for the hold check.
    """
    if customer.kind != Customer.Kind.BUSINESS or customer.pk is None:
        return None
    if _TERMS_CACHE not in customer.__dict__:
        customer.__dict__[_TERMS_CACHE] = CustomerTerms.objects.filter(customer=customer).first()
    return customer.__dict__[_TERMS_CACHE]


def open_balance(*, customer: Customer, currency: str, including: Order | None = None) -> Decimal:
    """What the customer owes on unpaid, uncancelled orders in ``currency`` (see the module docstring)."""
    held_for_credit = Q(status=OrderStatus.ON_HOLD, hold_reason=CREDIT_LIMIT)
    if including is not None:
        held_for_credit &= ~Q(pk=including.pk)
    total = (
        Order.objects.filter(customer=customer, payment_status=Order.PaymentStatus.PENDING, currency=currency)
        .exclude(status=OrderStatus.CANCELLED)
        .exclude(held_for_credit)
        .aggregate(total=Sum("total"))["total"]
    )
    return (total or Decimal("0")).quantize(Decimal("0.01"))  # SQLite sums decimals as floats


def business_terms_check(*, order: Order, lines: Any = None, actor: str = "system") -> str | None:
    """Hold check for ``orders.placement``: stamps the invoice due date, holds ``credit_limit`` when over it.

    Consumers cost no query; a business customer one for its terms and, with a
    limit and an unpaid order, one for the balance.
    """
    customer = order.customer
    if customer.kind != Customer.Kind.BUSINESS:
        return None
    terms = customer_terms(customer)
    days = terms.payment_terms_days if terms and terms.payment_terms_days is not None else None
    if days is None:
        days = order.channel.payment_terms_days
    if days is not None and order.invoice_due_at is None:
        order.invoice_due_at = order.placed_at + timedelta(days=days)
        Order.objects.filter(pk=order.pk).update(invoice_due_at=order.invoice_due_at)
    if terms is None or terms.credit_limit is None or order.payment_status != Order.PaymentStatus.PENDING:
        return None
    if order.currency != terms.credit_currency:
        lifecycle.record(
            order,
            "credit_limit_exceeded",
            actor=actor,
            data={"detail": f"Order in {order.currency}, credit limit in {terms.credit_currency}."},
        )
        return CREDIT_LIMIT
    balance = open_balance(customer=customer, currency=terms.credit_currency, including=order)
    if balance <= terms.credit_limit:
        return None
    lifecycle.record(
        order,
        "credit_limit_exceeded",
        actor=actor,
        data={"open_balance": str(balance), "credit_limit": str(terms.credit_limit), "currency": order.currency},
    )
    return CREDIT_LIMIT
