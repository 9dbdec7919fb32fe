"""Shared reads of returns, each carrying its own joins so a list costs a constant number of queries."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum

from orders.models import Customer, pk_from_number

from .models import Refund, ReplacementLine, Return, ReturnLine, ReturnReceipt, ReturnStatus, StoreCreditEntry

ZERO = Decimal("0.00")


def return_list(*, channel=None) -> QuerySet[Return]:
    qs = Return.objects.select_related("order__channel", "order__customer", "exchange_order").prefetch_related(
        Prefetch(
            "lines",
            queryset=ReturnLine.objects.order_by("id").prefetch_related(
                Prefetch("receipts", queryset=ReturnReceipt.objects.select_related("location").order_by("id"))
            ),
        ),
        Prefetch("replacement_lines", queryset=ReplacementLine.objects.order_by("id")),
        Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id")),
    )
    if channel is not None:
        qs = qs.filter(order__channel=channel)
    return qs


def return_by_number(number: str, *, channel=None) -> Return | None:
    pk = pk_from_number(Return.NUMBER_PREFIX, number)
    if pk is None:
        return None
    return return_list(channel=channel).filter(pk=pk).first()


def return_refundable_amount(rma: Return) -> Decimal:
    """The default (and the most) to refund: what was paid for the units on the return, less any exchange.

    Before receipt that is the units announced; after it, the units that arrived.
    Uses prefetched lines when there are any.
    """
    if rma.status == ReturnStatus.REJECTED:
        return ZERO
    returned = sum((line.unit_price * line.quantity for line in rma.lines.all()), ZERO)
    exchanged = sum((rep.value for rep in rma.replacement_lines.all()), ZERO)
    return max(returned - exchanged, ZERO)


def return_amount(rma: Return) -> Decimal:
    """``refund_amount`` as the API shows it: what was paid out once closed, else what closing would pay."""
    if rma.status == ReturnStatus.CLOSED:
        return rma.refund_amount or ZERO
    return return_refundable_amount(rma)


def store_credit_balance(*, customer: Customer) -> dict[str, Decimal]:
    """A customer's store credit per currency: the sum of the ledger. Currencies at zero are left out."""
    rows = (
        StoreCreditEntry.objects.filter(customer=customer)
        .values("currency")
        .annotate(balance=Sum("amount"))
        .order_by("currency")
    )
    return {row["currency"]: row["balance"] for row in rows if row["balance"]}


def store_credit_balances(*, customer_ids) -> dict[int, dict[str, Decimal]]:
    """Balances of many customers in one query (admin lists)."""
    out: dict[int, dict[str, Decimal]] = defaultdict(dict)
    rows = (
        StoreCreditEntry.objects.filter(customer_id__in=list(customer_ids))
        .values("customer_id", "currency")
        .annotate(balance=Sum("amount"))
        .order_by()
    )
    for row in rows:
        if row["balance"]:
            out[row["customer_id"]][row["currency"]] = row["balance"]
    return dict(out)
