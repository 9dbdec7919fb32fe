"""Order-side rules that say no (rendered by the API as 409 unless noted)."""

from inventory.errors import DomainError, ErrorItem, InvalidInput

__all__ = [
    "AlreadyShipped",
    "DomainError",
    "ErrorItem",
    "IdempotencyConflict",
    "InvalidInput",
    "InvalidTransition",
    "NotOnHold",
    "ShippingLocked",
]


class InvalidTransition(DomainError):
    code = "invalid_transition"


class AlreadyShipped(DomainError):
    code = "already_shipped"


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"


class NotOnHold(DomainError):
    code = "not_on_hold"


class ShippingLocked(DomainError):
    """The ship-to of an order that has shipped, been delivered or been cancelled stays as it was."""

    code = "shipping_locked"
