"""Setting a channel's backorder policy (the rules themselves live in ``orders.backorder_policy``)."""

from __future__ import annotations

from django.db import transaction

from inventory.errors import ErrorItem, InvalidInput

from .models import SalesChannel

Policy = SalesChannel.BackorderPolicy


@transaction.atomic
def channel_backorder_policy_set(*, channel: SalesChannel, policy: str, days: int | None = None) -> SalesChannel:
    """``allow``, ``reject``, or ``cancel_after_days`` with ``days`` >= 1; other days are refused, nothing saved."""
    errors = []
    if policy not in Policy.values:
        errors.append(ErrorItem("invalid_choice", f"policy must be one of {', '.join(Policy.values)}.", "policy"))
    elif policy == Policy.CANCEL_AFTER_DAYS and days is None:
        errors.append(ErrorItem("days_required", "cancel_after_days needs days (1 or more).", "days"))
    elif policy == Policy.CANCEL_AFTER_DAYS and not 1 <= days <= 3650:
        errors.append(ErrorItem("invalid_days", "days must be from 1 to 3650.", "days"))
    elif policy != Policy.CANCEL_AFTER_DAYS and days is not None:
        errors.append(ErrorItem("days_unused", f"days applies only to cancel_after_days, not {policy}.", "days"))
    if errors:
        raise InvalidInput(errors)
    channel.backorder_policy, channel.backorder_cancel_after_days = policy, days
    channel.save(update_fields=["backorder_policy", "backorder_cancel_after_days"])
    return channel
