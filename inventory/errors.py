"""Domain errors: a rule said no.

Services raise these, never HTTP errors. The API's exception handler
(``config.api_errors``) renders them in API.md's envelope: ``409`` for a rule
of the current state, ``400`` for input a rule refuses. The admin shows the
``detail`` with ``message_user``; commands print it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorItem:
    code: str
    detail: str
    attr: str | None = None


class DomainError(Exception):
    """Base of every rule violation; ``status`` is the HTTP status it maps to."""

    code = "domain_error"
    status = 409

    def __init__(self, detail: str, *, code: str | None = None, attr: str | None = None, extra=None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.attr = attr
        self.extra = extra or {}

    @property
    def items(self) -> list[ErrorItem]:
        return [ErrorItem(self.code, self.detail, self.attr)]


class InvalidInput(DomainError):
    """One or more fields break a business rule (unknown SKU, inactive product...)."""

    code = "invalid"
    status = 400

    def __init__(self, errors: list[ErrorItem]):
        super().__init__("; ".join(e.detail for e in errors), code=errors[0].code, attr=errors[0].attr)
        self.errors = errors

    @property
    def items(self) -> list[ErrorItem]:
        return list(self.errors)


class InsufficientStock(DomainError):
    code = "insufficient_stock"


class NotFound(DomainError):
    code = "not_found"
    status = 404
