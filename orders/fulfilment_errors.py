"""Rules of the warehouse floor that say no (rendered by the API as 409 unless noted)."""

from inventory.errors import DomainError


class PickMismatch(DomainError):
    """The scanned quantities are not the shipment's: ``extra`` lists what is short and what is extra."""

    code = "pick_mismatch"


class NothingToPick(DomainError):
    code = "nothing_to_pick"


class CarrierError(DomainError):
    """The carrier's API failed or refused; nothing was changed on our side."""

    code = "carrier_error"
    status = 502


class HandoffError(DomainError):
    code = "handoff_failed"
    status = 502
